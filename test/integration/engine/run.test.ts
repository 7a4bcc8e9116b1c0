// `silo run` as a user runs it: output, exit codes, flags, and bad input refused cleanly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { SiloFixture } from '../../fixtures/fixtureSilo';

let silo: SiloFixture;
before(() => {
  silo = new SiloFixture();
  silo.importBusybox();
});
after(() => silo.dispose());

test('run --rm prints the output, returns the exit code and leaves nothing behind', () => {
  const r = silo.run(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.code, 3);
  assert.equal(silo.ok(['ps', '-aq']), '');
});

test('env, working directory, user, hostname and entrypoint reach the process', () => {
  const out = silo.ok(['run', '--rm', '-e', 'GREETING=hi there', '-w', '/tmp', '-u', '1000:1000', '--hostname', 'box', 'busybox', 'sh', '-c', 'echo "$GREETING|$(pwd)|$(id -u):$(id -g)|$(hostname)"']);
  assert.equal(out, 'hi there|/tmp|1000:1000|box\n');
  assert.equal(silo.ok(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'via', 'entrypoint']), 'via entrypoint\n');
});

test('stdin with -i reaches the container', () => {
  assert.equal(silo.ok(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'tr a-z A-Z'], { input: 'hello\nworld\n' }), 'HELLO\nWORLD\n');
});

test('-t gives the process a terminal', () => {
  const out = silo.ok(['run', '--rm', '-t', 'busybox', 'tty']);
  assert.match(out, /^\/dev\/pts\/\d+\r\n$/);
});

test('bind mounts, read-only when asked', () => {
  const dir = mkdtempSync('/tmp/silo-bind-');
  writeFileSync(`${dir}/in.txt`, 'from the host\n');
  assert.equal(silo.ok(['run', '--rm', '-v', `${dir}:/data`, 'busybox', 'sh', '-c', 'cat /data/in.txt; echo back > /data/out.txt']), 'from the host\n');
  assert.equal(silo.ok(['run', '--rm', '-v', `${dir}:/data:ro`, 'busybox', 'cat', '/data/out.txt']), 'back\n');
  const r = silo.run(['run', '--rm', '-v', `${dir}:/data:ro`, 'busybox', 'sh', '-c', 'echo x > /data/nope']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Read-only file system/);
});

test('the container sees its memory limit and a private /proc', () => {
  const out = silo.ok(['run', '--rm', '--memory', '64m', 'busybox', 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; echo $$']);
  const [limit, pid] = out.trim().split('\n');
  assert.equal(Number(limit), 64 * 1024 * 1024);
  assert.equal(pid, '1', 'the command is PID 1 in its own PID namespace');
});

test('a command that does not exist exits 127 with the reason', () => {
  const r = silo.run(['run', '--rm', 'busybox', 'no-such-command']);
  assert.equal(r.code, 127);
  assert.match(r.stderr, /no-such-command.*not found/);
  assert.equal(silo.ok(['ps', '-aq']), '', 'nothing is left behind');
});

test('bad input: one clear line, a non-zero exit, nothing created', () => {
  const cases: Array<[string[], RegExp]> = [
    [['run', 'nosuchimage'], /Unable to find image 'nosuchimage' locally/],
    [['run', 'Bad_Ref:x'], /invalid reference format/],
    [['run', '-p', '80', 'busybox', 'true'], /invalid publish spec "80"/],
    [['run', '-v', 'relative:/x', 'busybox', 'true'], /invalid volume spec/],
    [['run', '-v', '/does/not/exist:/x', 'busybox', 'true'], /bind source path does not exist/],
    [['run', '--memory', '1k', 'busybox', 'true'], /minimum memory limit/],
    [['run', '--nope', 'busybox'], /unknown flag: --nope/],
    [['run', '--isolation', 'hyperv', 'busybox', 'true'], /Hyper-V isolation needs a Windows host/],
  ];
  for (const [args, message] of cases) {
    const r = silo.run(args);
    assert.equal(r.code, 125, `${args.join(' ')} -> ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
  assert.equal(silo.ok(['ps', '-aq']), '');
});

test('a name in use is refused and the first container is untouched', () => {
  silo.ok(['create', '--name', 'taken', 'busybox', 'true']);
  const r = silo.run(['run', '--name', 'taken', 'busybox', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /The container name "\/taken" is already in use/);
  assert.equal(silo.ok(['ps', '-aq']).trim().split('\n').length, 1);
  silo.ok(['rm', 'taken']);
});
