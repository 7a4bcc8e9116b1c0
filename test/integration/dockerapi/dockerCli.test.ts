// The real docker CLI (28.x, and Debian's 20.10) driving Silo through its Docker API socket, the way a
// user does after `eval $(silo docker-env)`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { SiloFixture } from '../../fixtures/fixtureSilo';

const NEW_CLI = '/usr/local/bin/docker';
const OLD_CLI = '/usr/bin/docker';
const haveCli = existsSync(NEW_CLI);

let silo: SiloFixture;
let env: NodeJS.ProcessEnv;

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

function docker(args: string[], opts: { input?: string | Buffer; cli?: string; timeoutMs?: number } = {}): Out {
  const r = spawnSync(opts.cli ?? NEW_CLI, args, { env, input: opts.input ?? '', timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function ok(args: string[], opts: { input?: string | Buffer; cli?: string } = {}): string {
  const r = docker(args, opts);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

before(() => {
  if (!haveCli) return;
  silo = new SiloFixture();
  silo.importBusybox();
  const line = silo.ok(['docker-env']).trim();
  const m = /^export DOCKER_HOST=(unix:\/\/.+)$/.exec(line);
  assert.ok(m, `docker-env prints an export line: ${line}`);
  env = { ...process.env, DOCKER_HOST: m[1], DOCKER_CONFIG: mkdtempSync('/tmp/silo-dockercfg-') };
});
after(() => silo?.dispose());

test('the socket is owner-only and announces the API honestly', { skip: !haveCli && 'docker CLI missing' }, () => {
  const sock = env.DOCKER_HOST!.slice('unix://'.length);
  assert.equal(statSync(sock).mode & 0o777, 0o600);
  assert.equal(ok(['version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}']).trim(), '1.41 linux');
  const info = JSON.parse(ok(['info', '--format', '{{json .}}']));
  assert.equal(info.OSType, 'linux');
  assert.equal(info.Driver, 'overlayfs');
  assert.equal(info.Isolation, 'process');
});

test('run --rm prints output, returns the exit code and leaves nothing', { skip: !haveCli && 'docker CLI missing' }, () => {
  const r = docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.code, 3);
  assert.equal(ok(['ps', '-aq']), '');
  assert.equal(ok(['run', '--rm', '-i', 'busybox', 'tr', 'a-z', 'A-Z'], { input: 'hello\n' }), 'HELLO\n');
});

test('run -d, logs -f, exec, ps filters, stop, kill, rm -f', { skip: !haveCli && 'docker CLI missing' }, async () => {
  const id = ok(['run', '-d', '--name', 'ticker', '--label', 'team=silo', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.3; done; sleep 100']).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  // logs -f follows until stopped; read until the third line arrives.
  const follow = spawn(NEW_CLI, ['logs', '-f', 'ticker'], { env });
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`logs -f saw only: ${seen}`)), 10_000);
    follow.stdout.on('data', (d) => {
      seen += d;
      if (seen.includes('tick 3')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  follow.kill();
  assert.equal(seen, 'tick 1\ntick 2\ntick 3\n');
  assert.match(ok(['logs', '-t', '--tail', '1', 'ticker']), /^\d{4}-\d\d-\d\dT[\d:.]+Z tick 3\n$/);

  const ex = docker(['exec', 'ticker', 'sh', '-c', 'echo in-exec; echo oops >&2; exit 4']);
  assert.deepEqual([ex.stdout, ex.stderr, ex.code], ['in-exec\n', 'oops\n', 4]);
  assert.equal(ok(['exec', '-i', 'ticker', 'cat'], { input: 'through stdin\n' }), 'through stdin\n');
  // exec -it through a real pty (util-linux script).
  const pty = spawnSync('script', ['-qc', `${NEW_CLI} exec -it ticker sh -c tty`, '/dev/null'], { env, input: '', timeout: 20_000 });
  assert.match(pty.stdout.toString(), /\/dev\/pts\/\d+/);

  assert.equal(ok(['ps', '--filter', 'label=team=silo', '--format', '{{.Names}}']), 'ticker\n');
  assert.equal(ok(['ps', '--filter', 'label=team=other', '--format', '{{.Names}}']), '');
  assert.equal(ok(['top', 'ticker']).split('\n')[0].includes('PID'), true);

  ok(['stop', '-t', '1', 'ticker']);
  assert.equal(ok(['ps', '-a', '--filter', 'exited=137', '--format', '{{.Names}} {{.State}}']), 'ticker exited\n');
  assert.equal(ok(['ps', '--format', '{{.Names}}']), '');

  ok(['start', 'ticker']);
  ok(['kill', 'ticker']);
  assert.equal(ok(['wait', 'ticker']).trim(), '137');
  ok(['start', 'ticker']);
  ok(['rm', '-f', 'ticker']);
  assert.equal(ok(['ps', '-aq']), '');
});

test('exec -it starts with the terminal\'s size (stty size), every time, for both CLIs', { skip: !haveCli && 'docker CLI missing' }, () => {
  ok(['run', '-d', '--name', 'sized', 'busybox', 'sleep', '100']);
  // Below API 1.42 the CLI sends no ConsoleSize; Silo waits for its first resize before starting the
  // process, and the size goes in process.json. crun sets it on the exec tty from its parent just after
  // releasing the child (crun container.c), which the child used to win about 1 time in 6 here (up to
  // half the time under load); the monitor now runs that crun call real-time (silo-monitor.c
  // spawn_runtime). `stty size` reads the size at its first instant: 30 tries, never 0x0.
  for (const cli of [NEW_CLI, ...(existsSync(OLD_CLI) ? [OLD_CLI] : [])]) {
    const outs: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = spawnSync('script', ['-qc', `stty rows 33 cols 101; ${cli} exec -it sized stty size`, '/dev/null'], { env, input: '', timeout: 20_000 });
      outs.push(r.stdout.toString().replace(/\^@/g, ''));
    }
    const unsized = outs.filter((o) => !/^33 101\r?\n$/.test(o));
    assert.deepEqual(unsized, [], `${cli}: ${unsized.length} of 30 did not see 33 101`);
  }
  // A later resize reaches a running exec too.
  const later = spawnSync('script', ['-qc', `stty rows 40 cols 120; ${NEW_CLI} exec -it sized sh -c "sleep 0.5; stty size"`, '/dev/null'], { env, input: '', timeout: 20_000 });
  assert.match(later.stdout.toString(), /40 120/);
  ok(['rm', '-f', 'sized']);
});

test('errors keep Docker\'s shapes: no such container, name conflict, unsupported options', { skip: !haveCli && 'docker CLI missing' }, () => {
  const missing = docker(['inspect', 'nope']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /No such (container|object): nope/);
  ok(['create', '--name', 'taken', 'busybox', 'true']);
  const clash = docker(['create', '--name', 'taken', 'busybox', 'true']);
  assert.match(clash.stderr, /Conflict\. The container name "\/taken" is already in use/);
  const restart = docker(['run', '-d', '--restart', 'always', 'busybox', 'true']);
  assert.notEqual(restart.code, 0);
  assert.match(restart.stderr, /restart policy "always" is not supported/);
  const priv = docker(['run', '--rm', '--privileged', 'busybox', 'true']);
  assert.match(priv.stderr, /Privileged is not supported/);
  const hyperv = docker(['run', '--rm', '--isolation', 'hyperv', 'busybox', 'true']);
  assert.notEqual(hyperv.code, 0);
  assert.match(hyperv.stderr, /Error response from daemon: invalid isolation "hyperv" on linux: Hyper-V isolation is for Windows containers on a Windows host/);
  const platform = docker(['create', '--platform', 'windows/amd64', '--pull', 'never', 'busybox', 'true']);
  assert.notEqual(platform.code, 0);
  assert.match(platform.stderr, /does not match the specified platform: wanted windows\/amd64, actual: linux\/amd64/);
  assert.equal(ok(['ps', '-a', '--format', '{{.Names}}']), 'taken\n', 'nothing half-created');
  ok(['rm', 'taken']);
});

test('images, inspect, history, tag, rmi, save | load', { skip: !haveCli && 'docker CLI missing' }, () => {
  assert.match(ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /^busybox:latest\n$/);
  const img = JSON.parse(ok(['image', 'inspect', 'busybox']))[0];
  assert.equal(img.Os, 'linux');
  assert.equal(img.RootFS.Type, 'layers');
  assert.match(ok(['history', 'busybox']), /Imported from -/);
  ok(['tag', 'busybox', 'mybox:1']);
  assert.equal(ok(['images', '--filter', 'reference=mybox', '--format', '{{.Repository}}:{{.Tag}}']), 'mybox:1\n');
  assert.equal(ok(['rmi', 'mybox:1']), 'Untagged: mybox:1\n');
  const dir = mkdtempSync('/tmp/silo-save-');
  const tar = path.join(dir, 'bb.tar');
  ok(['save', '-o', tar, 'busybox']);
  assert.ok(statSync(tar).size > 100_000);
  assert.equal(ok(['load', '-i', tar]), 'Loaded image: busybox:latest\n');
  rmSync(dir, { recursive: true, force: true });
});

test('diff, cp in and out, stats', { skip: !haveCli && 'docker CLI missing' }, () => {
  ok(['run', '-d', '--name', 'files', 'busybox', 'sh', '-c', 'echo made > /made.txt; sleep 100']);
  spawnSync('sleep', ['0.5']);
  assert.match(ok(['diff', 'files']), /^A \/made\.txt$/m);
  const dir = mkdtempSync('/tmp/silo-cp-');
  writeFileSync(path.join(dir, 'in.txt'), 'from the host\n');
  ok(['cp', path.join(dir, 'in.txt'), 'files:/tmp/']);
  assert.equal(ok(['exec', 'files', 'cat', '/tmp/in.txt']), 'from the host\n');
  ok(['cp', 'files:/made.txt', path.join(dir, 'out.txt')]);
  assert.equal(readFileSync(path.join(dir, 'out.txt'), 'utf8'), 'made\n');
  ok(['cp', 'files:/etc', path.join(dir, 'etc')]);
  assert.ok(existsSync(path.join(dir, 'etc', 'hostname')));
  const stats = ok(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'files']);
  assert.equal(stats, 'files 1\n');
  ok(['rm', '-f', 'files']);
  rmSync(dir, { recursive: true, force: true });
});

test('events stream with filters, and wait', { skip: !haveCli && 'docker CLI missing' }, async () => {
  const ev = spawn(NEW_CLI, ['events', '--filter', 'type=container', '--filter', 'event=die', '--format', '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}'], { env });
  let seen = '';
  ev.stdout.on('data', (d) => (seen += d));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(docker(['run', '--name', 'ev1', 'busybox', 'sh', '-c', 'exit 5']).code, 5);
  for (let i = 0; i < 50 && !seen; i++) await new Promise((r) => setTimeout(r, 100));
  ev.kill();
  assert.equal(seen, 'die ev1 5\n');
  assert.equal(ok(['wait', 'ev1']).trim(), '5');
  ok(['rm', 'ev1']);
});

test("Debian's docker 20.10 client works too", { skip: (!existsSync(OLD_CLI) || !haveCli) && 'docker 20.10 CLI missing' }, () => {
  assert.equal(ok(['version', '--format', '{{.Server.APIVersion}}'], { cli: OLD_CLI }).trim(), '1.41');
  assert.equal(ok(['run', '--rm', 'busybox', 'echo', 'old client'], { cli: OLD_CLI }), 'old client\n');
  assert.equal(ok(['ps', '-a', '--format', '{{.Names}}'], { cli: OLD_CLI }), '');
});

test('networks and volumes list honestly; creating them says it is not supported', { skip: !haveCli && 'docker CLI missing' }, () => {
  assert.match(ok(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']), /^none null\n$/);
  assert.equal(ok(['volume', 'ls', '-q']), '');
  const r = docker(['volume', 'create', 'data']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /named volumes is not supported by Silo/);
});

test('build (classic API) with cache, and commit', { skip: !haveCli && 'docker CLI missing' }, () => {
  const dir = mkdtempSync('/tmp/silo-build-ctx-');
  writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox\nARG WHO=world\nCOPY msg.txt /msg.txt\nRUN echo "hello $WHO" >> /msg.txt\nCMD ["cat", "/msg.txt"]\n');
  writeFileSync(path.join(dir, 'msg.txt'), 'from the context\n');
  const buildEnv = { DOCKER_BUILDKIT: '0' };
  const saved = env;
  env = { ...env, ...buildEnv };
  try {
    const first = ok(['build', '--build-arg', 'WHO=silo', '-t', 'built:1', dir]);
    assert.match(first, /Step 1\/5 : FROM busybox/);
    assert.match(first, /Successfully tagged built:1/);
    assert.equal(ok(['run', '--rm', 'built:1']), 'from the context\nhello silo\n');
    assert.match(ok(['build', '--build-arg', 'WHO=silo', '-t', 'built:1', dir]), /Using cache/);
    const bad = docker(['build', '-f', 'Nope', dir]);
    assert.notEqual(bad.code, 0);
  } finally {
    env = saved;
    rmSync(dir, { recursive: true, force: true });
  }
  ok(['run', '-d', '--name', 'tocommit', 'busybox', 'sh', '-c', 'echo committed > /c.txt; sleep 100']);
  spawnSync('sleep', ['0.5']);
  assert.match(ok(['commit', '-c', 'CMD ["cat", "/c.txt"]', 'tocommit', 'committed:1']), /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(ok(['run', '--rm', 'committed:1']), 'committed\n');
  ok(['rm', '-f', 'tocommit']);
  ok(['rmi', 'committed:1', 'built:1']);
});

test('a pull from a registry that is not there fails in the stream with the reason', { skip: !haveCli && 'docker CLI missing' }, () => {
  const r = docker(['pull', '127.0.0.1:1/nothing:latest']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /cannot reach 127\.0\.0\.1:1/);
});

test('an engine asked to stop stops with a `docker attach` open: the attach ends, the container keeps running', { skip: !haveCli && 'docker CLI missing' }, async () => {
  ok(['run', '-d', '--name', 'attached', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.2; done']);
  const attach = spawn(NEW_CLI, ['attach', 'attached'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((r) => attach.stdout.once('data', r));
  const pid = silo.enginePid()!;
  process.kill(pid, 'SIGTERM');
  // The hijacked connection is the API's to end: a server that waits for it never closes.
  const deadline = Date.now() + 10_000;
  while (existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) {
    assert.ok(Date.now() < deadline, 'the engine is still running 10 s after SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => (attach.exitCode !== null ? r(undefined) : attach.once('exit', r)));
  // The next command starts a new engine, which finds the container still running.
  assert.match(silo.ok(['ps']), /attached/);
  silo.ok(['rm', '-f', 'attached']);
});
