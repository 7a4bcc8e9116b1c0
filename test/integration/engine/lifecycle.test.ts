// A container's life through the CLI: detach, ps, logs -f, exec, stop/start/restart, kill, wait, diff, inspect, rm.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SiloFixture } from '../../fixtures/fixtureSilo';

let silo: SiloFixture;
before(() => {
  silo = new SiloFixture();
  silo.importBusybox();
});
after(() => silo.dispose());

test('run -d, ps, logs -f until exit, wait, rm', () => {
  const id = silo.ok(['run', '-d', '--name', 'counter', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.2; done; echo done >&2; exit 4']).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.match(silo.ok(['ps']), /counter/);
  const logs = silo.run(['logs', '-f', 'counter']);
  assert.equal(logs.stdout, 'line 1\nline 2\nline 3\n');
  assert.equal(logs.stderr, 'done\n');
  assert.equal(silo.ok(['wait', 'counter']), '4\n');
  assert.match(silo.ok(['ps', '-a']), /Exited \(4\)/);
  assert.doesNotMatch(silo.ok(['ps']), /counter/);
  const stamped = silo.run(['logs', '-t', '--tail', '2', 'counter']);
  assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 3\n$/);
  assert.match(stamped.stderr, /^\S+Z done\n$/);
  assert.equal(silo.ok(['rm', 'counter']), 'counter\n');
  assert.equal(silo.run(['logs', 'counter']).code, 1);
});

test('exec runs in the running container, with its exit code and stdin', () => {
  silo.ok(['run', '-d', '--name', 'svc', 'busybox', 'sleep', '300']);
  assert.equal(silo.ok(['exec', 'svc', 'sh', '-c', 'echo $$ is not 1; hostname']).split('\n')[0].endsWith('is not 1'), true);
  assert.equal(silo.run(['exec', 'svc', 'sh', '-c', 'exit 7']).code, 7);
  assert.equal(silo.ok(['exec', '-i', 'svc', 'cat'], { input: 'piped\n' }), 'piped\n');
  assert.match(silo.ok(['exec', '-t', 'svc', 'tty']), /^\/dev\/pts\/\d+\r\n$/);
  const bad = silo.run(['exec', 'svc', 'nope']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /nope/);
});

test('stop sends SIGTERM then SIGKILL after the timeout; start and restart bring it back', () => {
  const started = Date.now();
  silo.ok(['stop', '-t', '1', 'svc']); // sleep as PID 1 ignores SIGTERM: killed after 1 s
  assert.ok(Date.now() - started < 8000);
  const info = JSON.parse(silo.ok(['inspect', 'svc']))[0];
  assert.equal(info.State.Status, 'exited');
  assert.equal(info.State.ExitCode, 137);
  silo.ok(['start', 'svc']);
  assert.equal(JSON.parse(silo.ok(['inspect', 'svc']))[0].State.Running, true);
  silo.ok(['restart', '-t', '0', 'svc']);
  const after = JSON.parse(silo.ok(['inspect', 'svc']))[0];
  assert.equal(after.State.Running, true);
  assert.equal(after.RestartCount, 1);
  silo.ok(['kill', '-s', 'SIGKILL', 'svc']);
  assert.equal(silo.ok(['wait', 'svc']), '137\n');
  const rmRunning = silo.run(['rm', 'svc']);
  assert.equal(rmRunning.code, 0);
});

test('a handled SIGTERM stops the container gracefully with its own exit code', () => {
  silo.ok(['run', '-d', '--name', 'graceful', 'busybox', 'sh', '-c', "trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done"]);
  silo.ok(['stop', 'graceful']);
  assert.equal(silo.ok(['wait', 'graceful']), '0\n');
  assert.equal(silo.ok(['logs', 'graceful']), 'bye\n');
  silo.ok(['rm', 'graceful']);
});

test('diff lists added, changed and deleted paths of the container layer', () => {
  silo.ok(['run', '--name', 'changer', 'busybox', 'sh', '-c', 'mkdir -p /work && echo x > /work/new.txt && echo y >> /etc/passwd && rm /bin/true']);
  const diff = silo.ok(['diff', 'changer']).trim().split('\n');
  // As docker diff on overlay2 prints it: a parent directory is listed for additions and deletions inside it.
  assert.deepEqual(diff, ['C /bin', 'D /bin/true', 'C /etc/passwd', 'A /work', 'A /work/new.txt']);
  silo.ok(['rm', 'changer']);
});

test('rm -f removes a running container; rm of a running one without -f is refused', () => {
  silo.ok(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '300']);
  const r = silo.run(['rm', 'busy']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /You cannot remove a running container/);
  silo.ok(['rm', '-f', 'busy']);
  assert.equal(silo.ok(['ps', '-aq']), '');
});

test('commit makes an image of the container layer, with --change applied; stats samples a running container', () => {
  silo.ok(['run', '--name', 'maker', 'busybox', 'sh', '-c', 'echo made > /made.txt']);
  const id = silo.ok(['commit', '-m', 'add made.txt', '-c', 'CMD ["cat", "/made.txt"]', 'maker', 'made:v1']).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.equal(silo.ok(['run', '--rm', 'made:v1']), 'made\n');
  assert.match(silo.ok(['history', 'made:v1']).split('\n')[1], /add made\.txt/);
  silo.ok(['rm', 'maker']);

  silo.ok(['run', '-d', '--name', 'spinner', '--memory', '64m', 'busybox', 'sh', '-c', 'while true; do :; done']);
  const [header, row] = silo.ok(['stats', '--no-stream', 'spinner']).split('\n');
  assert.match(header, /CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+PIDS/);
  const cpu = Number(/\s(\d+\.\d+)%/.exec(row)![1]);
  assert.ok(cpu > 20, `a busy loop uses CPU (${row})`);
  assert.match(row, /\/ 64MiB/);
  silo.ok(['rm', '-f', 'spinner']);
  silo.ok(['rmi', 'made:v1']);
});
