// `npm run package` (scripts/package.mjs): one VSIX per target, each with koffi's binary for that
// platform — a Windows user's VSIX must carry the win32 binary the HCS driver loads — and nothing of
// the sources. The win32 binaries come from the cache `setup.sh --test` fills; no download here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../fixtures/fixtureSilo';

const cache = process.env.SILO_PACKAGE_CACHE ?? '/var/cache/silo-package';
const win32Cached = existsSync(cache) && readdirSync(cache).some((f) => f.startsWith('koromix-koffi-win32-x64-'));
const skip = win32Cached ? undefined : `koffi's win32 binaries are not cached in ${cache}: run node scripts/package.mjs --fetch`;

function packageVsix(target: string, env: NodeJS.ProcessEnv = {}) {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'silo-vsix-')), `silo-${target}.vsix`);
  const r = spawnSync(process.execPath, ['scripts/package.mjs', '--no-build', '--offline', '--target', target, '--out', out], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { ...r, out };
}

function listing(vsix: string): string[] {
  const r = spawnSync('unzip', ['-Z1', vsix], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('the win32-x64 VSIX carries koffi for win32-x64 and is marked for that platform', { skip }, () => {
  const r = packageVsix('win32-x64');
  assert.equal(r.status, 0, r.stderr);
  const files = listing(r.out);
  assert.ok(files.includes('extension/node_modules/@koromix/koffi-win32-x64/win32_x64/koffi.node'), files.join('\n'));
  assert.ok(files.includes('extension/dist/silo-engine.js'));
  assert.ok(files.includes('extension/dist/silo-hcs-supervisor.js'));
  assert.ok(files.includes('extension/dist/silo-layer-worker.js'));
  // No other platform's binary, no Linux monitor, no sources, tests or source maps.
  assert.deepEqual(files.filter((f) => f.endsWith('.node') && !f.includes('win32_x64')), []);
  assert.ok(!files.includes('extension/dist/silo-monitor'));
  assert.ok(!files.includes('extension/dist/libsilo-gunzip.so'));
  assert.deepEqual(files.filter((f) => /\.(ts|map|cc|c|h)$/.test(f) || f.includes('/test/')), []);
  const manifest = spawnSync('unzip', ['-p', r.out, 'extension.vsixmanifest'], { encoding: 'utf8' }).stdout;
  assert.match(manifest, /TargetPlatform="win32-x64"/);
});

test('the linux-x64 VSIX carries the container monitor, the ISA-L gunzip library and koffi for linux-x64', { skip: process.arch === 'x64' ? undefined : 'x64 host only' }, () => {
  const r = packageVsix('linux-x64');
  assert.equal(r.status, 0, r.stderr);
  const files = listing(r.out);
  assert.ok(files.includes('extension/dist/silo-monitor'));
  assert.ok(files.includes('extension/dist/silo-layer-worker.js'));
  assert.ok(files.includes('extension/dist/libsilo-gunzip.so'), 'the ISA-L gunzip library (libisal-dev is installed by scripts/setup.sh)');
  assert.deepEqual(files.filter((f) => f.endsWith('.node')), ['extension/node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node']);
});

test('a cached binary that does not match package-lock.json is refused and removed', { skip }, () => {
  const own = mkdtempSync(path.join(tmpdir(), 'silo-package-cache-'));
  const name = readdirSync(cache).find((f) => f.startsWith('koromix-koffi-win32-x64-'))!;
  copyFileSync(path.join(cache, name), path.join(own, name));
  const bytes = readFileSync(path.join(own, name));
  bytes[bytes.length - 10] ^= 0xff;
  writeFileSync(path.join(own, name), bytes);
  const r = packageVsix('win32-x64', { SILO_PACKAGE_CACHE: own });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /does not match the integrity package-lock\.json pins/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.ok(!existsSync(path.join(own, name)), 'the bad file is gone');
  assert.ok(!existsSync(r.out), 'no VSIX written');
});

test('an unknown target is one line and no VSIX', () => {
  const r = packageVsix('darwin-sparc');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /^silo package: unknown target darwin-sparc: one of win32-x64, win32-arm64, linux-x64\n$/);
});
