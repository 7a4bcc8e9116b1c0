// A host that cannot run Linux containers gets one line from the real CLI saying what is missing and
// what to do, a non-zero exit, and a data root with nothing in it but the engine's lock and log.
// Each case changes only what the CLI (and the engine it starts) sees: another user, or a private mount
// namespace (unshare -m) where the runtime binaries or the kernel's overlay entry are covered up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { RUNTIME_DIRS } from '../../../engine/src/platform/linux/host';
import { SiloFixture, hasTool, repoRoot } from '../../fixtures/fixtureSilo';

const cli = path.join(repoRoot, 'dist/silo.js');
const skip = process.getuid?.() !== 0 ? 'needs root (to switch user and to unshare a mount namespace)' : !hasTool('unshare') || !hasTool('setpriv') ? 'needs util-linux (unshare, setpriv)' : undefined;

/** `sh -c SCRIPT` with the CLI's command line as "$@"; stdout, stderr and the exit code. */
function runShell(script: string, cliArgs: string[], prefix: string[] = []) {
  const r = spawnSync(prefix[0] ?? 'sh', [...prefix.slice(1), ...(prefix.length ? ['sh'] : []), '-c', script, 'sh', process.execPath, cli, ...cliArgs], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function assertOneClearLine(r: { code: number; stderr: string }, message: RegExp, hint: RegExp) {
  assert.notEqual(r.code, 0);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.match(lines[0], /^silo: /);
  assert.match(lines[0], message);
  assert.match(lines[0], hint);
  assert.doesNotMatch(lines[0], /engine did not start|see .*engine\.log/, 'the reason itself, not a pointer to a log');
}

/** Nothing half-created: only the engine's lock and log (the record of why it stopped). */
function assertNothingCreated(root: string) {
  const left = readdirSync(root).filter((n) => n !== 'engine.lock' && n !== 'engine.log');
  assert.deepEqual(left, []);
}

test('not root: one line saying so and to use sudo', { skip }, () => {
  const silo = new SiloFixture();
  try {
    // The data root belongs to the unprivileged user, so what stops it is the host check, not a file mode.
    chownSync(silo.root, 65534, 65534);
    chmodSync(silo.root, 0o755);
    const r = runShell('exec "$@"', ['--root', silo.root, 'ps'], ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
    assertOneClearLine(r, /runs Linux containers as root/, /sudo/);
    assertNothingCreated(silo.root);
  } finally {
    silo.dispose();
  }
});

test('no crun or runc: one line saying which runtime to install', { skip }, () => {
  const silo = new SiloFixture();
  // Cover every crun/runc the engine could find with an empty, non-executable file.
  const blank = `${silo.root}.blank`;
  try {
    writeFileSync(blank, '');
    const dirs = [...new Set([...(process.env.PATH ?? '').split(':').filter(Boolean), ...RUNTIME_DIRS])];
    const targets = dirs.flatMap((d) => ['crun', 'runc'].map((n) => path.join(d, n))).filter((p) => existsSync(p));
    const cover = targets.map((t) => `mount --bind '${blank}' '${t}'`).join(' && ');
    const r = runShell(`${cover || 'true'} && exec "$@"`, ['--root', silo.root, 'ps'], ['unshare', '-m']);
    assertOneClearLine(r, /no OCI runtime found \(crun or runc\)/, /apt-get install crun/);
    assertNothingCreated(silo.root);
  } finally {
    rmSync(blank, { force: true });
    silo.dispose();
  }
});

test('no overlay filesystem in the kernel: one line saying to load it', { skip }, () => {
  const silo = new SiloFixture();
  // What the kernel would report without the overlay module (the engine's check reads this file).
  const fake = `${silo.root}.filesystems`;
  try {
    writeFileSync(fake, readFileSync('/proc/filesystems', 'utf8').split('\n').filter((l) => !/\boverlay\b/.test(l)).join('\n'));
    const r = runShell(`mount --bind '${fake}' /proc/filesystems && exec "$@"`, ['--root', silo.root, 'ps'], ['unshare', '-m']);
    assertOneClearLine(r, /no overlay filesystem/, /modprobe overlay/);
    assertNothingCreated(silo.root);
  } finally {
    rmSync(fake, { force: true });
    silo.dispose();
  }
});
