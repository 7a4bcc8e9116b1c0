// A layer blob unpacked on the layer worker (layers/layerWorkers.ts unpackInWorker, as a pull does):
// the same tree and diff ID as inflating and extracting here, with ISA-L and with zlib; a broken,
// cut short or corrupt blob rejects, and only once the worker stopped writing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { isKind } from '../../../engine/src/errors';
import { extractLayer } from '../../../engine/src/layers/extract';
import { isalAvailable } from '../../../engine/src/layers/gunzip';
import { unpackInWorker } from '../../../engine/src/layers/layerWorkers';
import { linuxSpecialFiles as special } from '../../../engine/src/platform/linux/libc';
import { buildTar, type FixtureEntry } from '../../fixtures/layers/tars';

const skip = process.getuid?.() !== 0 ? 'needs root (owners, device nodes)' : false;

const tmp = () => fs.mkdtempSync('/var/tmp/silo-layer-worker-');
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Every path under `root`: kind, mode, owner, size, mtime, device, links, contents or link target, xattrs. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = fs.lstatSync(p);
      // Entries the tar did not name (parents, whiteout devices) get the time they were made.
      const mtime = st.mtimeMs > Date.now() - 600_000 ? 'just now' : st.mtimeMs;
      let what = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${mtime} ${st.rdev} nlink=${st.nlink}`;
      if (st.isFile()) what += ' ' + sha(fs.readFileSync(p));
      if (st.isSymbolicLink()) what += ' -> ' + fs.readlinkSync(p);
      for (const x of special.llistxattr(p).sort()) what += ` ${x}=${special.lgetxattr(p, x)?.toString('hex')}`;
      out[path.relative(root, p)] = what;
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

const ENTRIES: FixtureEntry[] = [
  { type: 'dir', name: 'usr/', mode: 0o755, mtime: 1_600_000_000 },
  { type: 'file', name: 'usr/bin/tool', body: randomBytes(3 << 20), mode: 0o4755, uid: 1000, gid: 1001, xattrs: { 'user.note': 'x' } },
  { type: 'file', name: 'usr/share/doc', body: 'text '.repeat(100_000) },
  { type: 'symlink', name: 'usr/bin/alias', target: 'tool' },
  { type: 'link', name: 'usr/bin/hard', target: 'usr/bin/tool' },
  { type: 'char', name: 'dev/null', major: 1, minor: 3, mode: 0o666 },
  { type: 'fifo', name: 'run/pipe', mode: 0o600 },
  { type: 'file', name: '.wh.gone', body: '' },
  { type: 'dir', name: 'opaque/', mode: 0o700 },
  { type: 'file', name: 'opaque/.wh..wh..opq', body: '' },
];

/** `data` as a socket would give it: 64 KB pieces. */
function pieces(data: Buffer): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += 65536) parts.push(Buffer.from(data.subarray(i, i + 65536)));
  return Readable.from(parts);
}

test('ISA-L is what unpacks gzip layers here (scripts/setup.sh installs libisal-dev)', () => {
  assert.ok(isalAvailable(), 'dist/libsilo-gunzip.so missing or not loadable: run node scripts/build.mjs with libisal-dev installed');
});

for (const [name, opts] of [['ISA-L', {}], ['zlib', { zlib: true }]] as const) {
  test(`${name}: a gzip layer unpacks to the same tree and diff ID as extracting its tar here`, { skip }, async () => {
    const tar = await buildTar(ENTRIES);
    const blob = Buffer.concat([zlib.gzipSync(tar.subarray(0, 1 << 20)), zlib.gzipSync(tar.subarray(1 << 20), { level: 1 })]);
    const here = tmp();
    const there = tmp();
    try {
      const expected = await extractLayer(Readable.from([tar]), here, { special, whiteouts: 'overlay' });
      const got = await unpackInWorker(pieces(blob), there, { whiteouts: 'overlay', ...opts });
      assert.equal(got.digest, sha(tar));
      assert.deepEqual({ entries: got.entries, bytes: got.bytes }, expected);
      assert.deepEqual(tree(there), tree(here));
    } finally {
      fs.rmSync(here, { recursive: true, force: true });
      fs.rmSync(there, { recursive: true, force: true });
    }
  });

  test(`${name}: a blob whose source fails, ends early or is corrupt rejects after the worker stopped writing`, { skip }, async () => {
    const tar = await buildTar([{ type: 'file', name: 'big', body: randomBytes(8 << 20) }, { type: 'file', name: 'after', body: 'x' }]);
    const gz = zlib.gzipSync(tar, { level: 1 });
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 5000, 9000);
    const broken = () => {
      const s = new Readable({ read() { /* pushed below */ } });
      s.push(gz.subarray(0, 3 << 20));
      setTimeout(() => s.destroy(new Error('connection reset')), 20);
      return s;
    };
    const cases: Array<[string, () => Readable, (err: unknown) => boolean]> = [
      ['source fails', broken, (err) => /connection reset/.test((err as Error).message)],
      ['source ends early', () => pieces(gz.subarray(0, 3 << 20)), (err) => isKind(err, 'InvalidArgument')],
      ['source closes without an end', () => { const s = broken(); setTimeout(() => s.destroy(), 10); return s; }, () => true],
      ['corrupt', () => pieces(corrupt), (err) => isKind(err, 'InvalidArgument') && /not valid gzip data/.test((err as Error).message)],
    ];
    for (const [what, source, expected] of cases) {
      const dir = tmp();
      try {
        await assert.rejects(unpackInWorker(source(), dir, { whiteouts: 'overlay', ...opts }), expected, what);
        const files = fs.readdirSync(dir);
        const size = files.includes('big') ? fs.statSync(path.join(dir, 'big')).size : -1;
        await new Promise((r) => setTimeout(r, 100));
        assert.deepEqual(fs.readdirSync(dir), files, `${what}: nothing new after the rejection`);
        if (size >= 0) assert.equal(fs.statSync(path.join(dir, 'big')).size, size, `${what}: no write after the rejection`);
        assert.ok(!files.includes('after'), `${what}: the tar did not go on`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });
}

test('a hostile tar is refused on the worker with the extraction\'s own message', { skip }, async () => {
  const dir = tmp();
  try {
    const tar = await buildTar([{ type: 'file', name: '../escape', body: 'x' }]);
    await assert.rejects(unpackInWorker(Readable.from([zlib.gzipSync(tar)]), dir, { whiteouts: 'overlay' }),
      (err) => isKind(err, 'InvalidArgument') && /^layer tar: \.\.\/escape: path contains "\.\."/.test((err as Error).message));
    assert.equal(fs.existsSync(path.join(path.dirname(dir), 'escape')), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
