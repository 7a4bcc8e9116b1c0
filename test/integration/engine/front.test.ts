// The native `silo` front (dist/silo) relays a command line into the running engine: what a user sees
// must be what `node dist/silo.js` gives — output, exit codes, stdin, paths relative to where they
// are, their environment, a terminal, Ctrl-C — and with no engine running it starts one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { SiloFixture, hasTool, repoRoot } from '../../fixtures/fixtureSilo';

const front = path.join(repoRoot, 'dist/silo');
const nodeCli = path.join(repoRoot, 'dist/silo.js');
const skip = process.platform !== 'linux' ? 'the front is Linux only' : undefined;

function viaFront(root: string, args: string[], opts: { input?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(front, ['--root', root, ...args], {
    input: opts.input ?? '',
    cwd: opts.cwd,
    env: { ...process.env, SILO_NODE: process.execPath, ...opts.env },
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** A private data root for one test (with busybox imported unless told not to), removed after. */
async function withSilo(fn: (silo: SiloFixture) => unknown, opts: { busybox?: boolean } = {}): Promise<void> {
  const silo = new SiloFixture();
  try {
    if (opts.busybox !== false) silo.importBusybox();
    await fn(silo);
  } finally {
    silo.dispose();
  }
}

function viaNode(root: string, args: string[], input = '') {
  const r = spawnSync(process.execPath, [nodeCli, '--root', root, ...args], { input, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

test('with no engine the front runs the Node CLI, which starts one; the next command is relayed', { skip }, () =>
  withSilo(async (silo) => {
    assert.equal(existsSync(path.join(silo.root, 'cli.sock')), false);
    const first = viaFront(silo.root, ['images']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID/);
    assert.equal(statSync(path.join(silo.root, 'cli.sock')).mode & 0o777, 0o600, 'owner-only, like the engine socket');
    const pid = silo.enginePid();
    assert.ok(pid);
    assert.deepEqual(viaFront(silo.root, ['images']), first);
    assert.equal(silo.enginePid(), pid, 'one engine');
  }, { busybox: false }));

test('output, stderr and exit codes are the Node CLI\'s, byte for byte', { skip }, () =>
  withSilo(async (silo) => {
    const cases = [
      ['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'],
      ['run', '--rm', 'busybox', 'nosuchcommand'],
      ['ps', '-a'],
      ['nosuch'],
      ['run', '--help'],
      ['inspect', 'nosuchimage'],
      ['run', '--memory', '1k', 'busybox', 'true'],
      [],
    ];
    for (const args of cases) {
      const a = viaFront(silo.root, args);
      const b = viaNode(silo.root, args);
      assert.deepEqual(a, b, `silo ${args.join(' ')}`);
    }
  }));

test('stdin, relative paths and the environment are the user\'s', { skip }, () =>
  withSilo(async (silo) => {
    const work = mkdtempSync('/tmp/front-');
    try {
      // stdin is read only when a command asks: `-i` gets it, a command without it leaves it alone.
      assert.equal(viaFront(silo.root, ['run', '-i', '--rm', 'busybox', 'cat'], { input: 'piped in\n' }).stdout, 'piped in\n');
      assert.equal(viaFront(silo.root, ['run', '--rm', 'busybox', 'cat'], { input: 'not read\n' }).stdout, '');
      // Paths are the user's working directory's, files are written as the user would.
      writeFileSync(path.join(work, 'vars.env'), 'FROM_FILE=file\n');
      const env = viaFront(silo.root, ['run', '--rm', '--env-file', 'vars.env', '-e', 'FROM_SHELL', 'busybox', 'sh', '-c', 'echo $FROM_FILE $FROM_SHELL'], {
        cwd: work,
        env: { FROM_SHELL: 'shell' },
      });
      assert.equal(env.stdout, 'file shell\n', env.stderr);
      assert.equal(viaFront(silo.root, ['save', '-o', 'saved.tar', 'busybox'], { cwd: work }).code, 0);
      assert.ok(statSync(path.join(work, 'saved.tar')).size > 100_000);
      // A big stdin goes through whole: an image archive, loaded back under another name.
      const archive = readFileSync(path.join(work, 'saved.tar'));
      const imported = viaFront(silo.root, ['import', '-', 'again:1'], { input: archive });
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(viaFront(silo.root, ['images']).stdout, /^again\s+1/m);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }));

test('a terminal: -it gets a tty of the user\'s size and raw keys; the terminal is restored after', { skip: skip ?? (!hasTool('script') ? 'needs script (bsdutils)' : undefined) }, () =>
  withSilo(async (silo) => {
    // script(1) gives the front a real pseudo-terminal; stty -a after the run shows the mode it left.
    const cmd = `stty cols 111 rows 33; SILO_NODE=${process.execPath} ${front} --root ${silo.root} run -it --rm busybox sh -c 'stty size; read x; echo "got $x"'; stty -a`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { input: 'typed\n', encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /33 111/);
    assert.match(r.stdout, /got typed/);
    // Back in cooked mode with echo, as it was.
    assert.match(r.stdout, /(^|\s)icanon(\s|$)/m);
    assert.match(r.stdout, /(^|\s)echo(\s|$)/m);
  }));

test('Ctrl-C ends a relayed command as it would end a local one; the engine lets go of it', { skip }, () =>
  withSilo(async (silo) => {
    const child = spawn(front, ['--root', silo.root, 'run', '--name', 'ticker', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.1; done'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    while (!out.includes('tick')) await new Promise((r) => setTimeout(r, 50));
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    assert.equal(code, 130);
    // The container keeps running (docker's behaviour when its CLI is interrupted).
    assert.match(silo.ok(['ps']), /ticker/);
  }));

test('a front killed mid-command does not leave the engine streaming to nobody', { skip }, () =>
  withSilo(async (silo) => {
    silo.ok(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.1; done']);
    const pid = silo.enginePid()!;
    const fds = () => spawnSync('ls', [`/proc/${pid}/fd`]).stdout.toString().split('\n').length;
    const before = fds();
    for (let i = 0; i < 5; i++) {
      // `exec` streams the process's output through the engine: relayed (logs -f is handed back).
      const child = spawn(front, ['--root', silo.root, 'exec', 'ticker', 'sh', '-c', 'while true; do echo tock; sleep 0.1; done'], { stdio: ['ignore', 'pipe', 'ignore'] });
      await new Promise((r) => child.stdout.once('data', r));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(fds() <= before + 1, `engine file descriptors: ${before} before, ${fds()} after`);
    assert.equal(viaFront(silo.root, ['logs', '--tail', '1', 'ticker']).stdout, 'tick\n');
  }));

test('logs -f is handed back to a Node process of its own: it outlives an engine restart', { skip }, () =>
  withSilo(async (silo) => {
    silo.ok(['run', '-d', '--name', 'talker', 'busybox', 'sh', '-c', 'i=1; while [ $i -le 40 ]; do echo "line $i"; i=$((i+1)); sleep 0.05; done']);
    const child = spawn(front, ['--root', silo.root, 'logs', '-f', 'talker'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SILO_NODE: process.execPath } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    while (!out.includes('line 5')) await new Promise((r) => setTimeout(r, 20));
    // The process is node running silo.js now, not the front.
    assert.match(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'), /silo\.js/);
    process.kill(silo.enginePid()!, 'SIGKILL');
    assert.equal(await exited, 0);
    assert.equal(out, Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join(''));
  }));

test('garbage on the front socket gets one line and the connection closed; the engine serves on', { skip }, () =>
  withSilo(async (silo) => {
    viaFront(silo.root, ['images']);
    const net = await import('node:net');
    const reply = await new Promise<Buffer>((resolve) => {
      const s = net.connect(path.join(silo.root, 'cli.sock'));
      const parts: Buffer[] = [];
      s.on('data', (d) => parts.push(d));
      s.on('close', () => resolve(Buffer.concat(parts)));
      s.write('GET / HTTP/1.1\r\n\r\n');
    });
    assert.match(reply.toString('latin1'), /silo: .*(over the limit|hello)/);
    assert.equal(viaFront(silo.root, ['images']).code, 0);
  }, { busybox: false }));
