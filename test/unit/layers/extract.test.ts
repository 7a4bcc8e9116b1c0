import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { isKind } from '../../../engine/src/errors';
import { decompressStream, sniffCompression } from '../../../engine/src/layers/compression';
import { extractLayer } from '../../../engine/src/layers/extract';
import { packDirectory } from '../../../engine/src/layers/pack';
import { linuxSpecialFiles as special } from '../../../engine/src/platform/linux/libc';
import { buildTar, type FixtureEntry } from '../../fixtures/layers/tars';

function tmp(): string {
  return fs.mkdtempSync('/var/tmp/silo-extract-');
}

async function extract(entries: FixtureEntry[], root: string, whiteouts: 'overlay' | 'apply' = 'overlay', limits?: { maxBytes?: number; maxEntries?: number }) {
  return extractLayer(Readable.from(await buildTar(entries)), root, { special, whiteouts, limits });
}

const CAP = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // binary, not UTF-8

test('every entry kind lands with its mode, owner, times and xattrs', async () => {
  const root = tmp();
  try {
    const res = await extract([
      { type: 'dir', name: './', mode: 0o755 },
      { type: 'dir', name: 'usr/', mode: 0o755, mtime: 1_600_000_000 },
      { type: 'dir', name: 'tmp/', mode: 0o1777 },
      { type: 'file', name: 'usr/bin/tool', body: 'binary', mode: 0o4755, uid: 1000, gid: 1001, mtime: 1_500_000_000, xattrs: { 'security.capability': CAP, 'user.note': 'héllo' } },
      { type: 'file', name: `usr/${'long-name-'.repeat(20)}/file`, body: 'long path' },
      { type: 'symlink', name: 'usr/bin/alias', target: 'tool' },
      { type: 'symlink', name: 'usr/abs', target: '/etc/passwd' },
      { type: 'link', name: 'usr/bin/hard', target: 'usr/bin/tool' },
      { type: 'char', name: 'dev/null', major: 1, minor: 3, mode: 0o666 },
      { type: 'block', name: 'dev/loop9', major: 7, minor: 9, mode: 0o660 },
      { type: 'fifo', name: 'run/pipe', mode: 0o600 },
      { type: 'file', name: 'etc/dup', body: 'first' },
      { type: 'file', name: 'etc/dup', body: 'second' },
      { type: 'file', name: 'etc/empty', body: '' },
    ], root);
    assert.equal(res.entries, 14);
    const tool = fs.lstatSync(path.join(root, 'usr/bin/tool'));
    assert.equal(tool.mode & 0o7777, 0o4755);
    assert.deepEqual([tool.uid, tool.gid], [1000, 1001]);
    assert.equal(tool.mtimeMs, 1_500_000_000_000);
    assert.deepEqual(special.lgetxattr(path.join(root, 'usr/bin/tool'), 'security.capability'), CAP);
    assert.equal(special.lgetxattr(path.join(root, 'usr/bin/tool'), 'user.note')?.toString(), 'héllo');
    assert.equal(fs.lstatSync(path.join(root, 'usr/bin/hard')).ino, tool.ino);
    assert.equal(fs.readlinkSync(path.join(root, 'usr/bin/alias')), 'tool');
    assert.equal(fs.readlinkSync(path.join(root, 'usr/abs')), '/etc/passwd');
    assert.equal(fs.readFileSync(path.join(root, `usr/${'long-name-'.repeat(20)}/file`), 'utf8'), 'long path');
    assert.equal(fs.lstatSync(path.join(root, 'tmp')).mode & 0o7777, 0o1777);
    assert.equal(fs.lstatSync(path.join(root, 'usr')).mtimeMs, 1_600_000_000_000, 'directory times are set after their contents');
    const nul = fs.lstatSync(path.join(root, 'dev/null'));
    assert.ok(nul.isCharacterDevice());
    assert.equal(nul.rdev, 259);
    assert.ok(fs.lstatSync(path.join(root, 'dev/loop9')).isBlockDevice());
    assert.ok(fs.lstatSync(path.join(root, 'run/pipe')).isFIFO());
    assert.equal(fs.readFileSync(path.join(root, 'etc/dup'), 'utf8'), 'second', 'a later entry replaces an earlier one');
    assert.equal(fs.readFileSync(path.join(root, 'etc/empty'), 'utf8'), '');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('trusted.* xattrs from a layer are never set (overlayfs reads them)', async () => {
  const root = tmp();
  try {
    await extract([{ type: 'file', name: 'f', body: 'x', xattrs: { 'trusted.overlay.redirect': '/etc' } }], root);
    assert.equal(special.lgetxattr(path.join(root, 'f'), 'trusted.overlay.redirect'), undefined);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('overlay mode turns whiteouts into 0/0 devices and opaque xattrs', async () => {
  const root = tmp();
  try {
    await extract([
      { type: 'file', name: 'etc/.wh.gone', body: '' },
      { type: 'dir', name: 'var/cache/' },
      { type: 'file', name: 'var/cache/.wh..wh..opq', body: '' },
      { type: 'file', name: 'var/cache/new', body: 'kept' },
      { type: 'file', name: '.wh.olddir', body: '' },
      { type: 'dir', name: 'olddir/' },
    ], root, 'overlay');
    const wh = fs.lstatSync(path.join(root, 'etc/gone'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.equal(special.lgetxattr(path.join(root, 'var/cache'), 'trusted.overlay.opaque')?.toString(), 'y');
    assert.equal(fs.readFileSync(path.join(root, 'var/cache/new'), 'utf8'), 'kept');
    assert.ok(fs.lstatSync(path.join(root, 'olddir')).isDirectory());
    assert.equal(special.lgetxattr(path.join(root, 'olddir'), 'trusted.overlay.opaque')?.toString(), 'y', 'whiteout + directory = opaque directory');
    assert.equal(fs.existsSync(path.join(root, 'etc/.wh.gone')), false);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('apply mode deletes what whiteouts name and empties opaque directories of lower entries', async () => {
  const root = tmp();
  try {
    await extract([
      { type: 'file', name: 'etc/gone', body: 'x' },
      { type: 'file', name: 'etc/stays', body: 'x' },
      { type: 'dir', name: 'cache/sub/' },
      { type: 'file', name: 'cache/sub/old', body: 'x' },
      { type: 'file', name: 'cache/old', body: 'x' },
    ], root, 'apply');
    await extract([
      { type: 'file', name: 'etc/.wh.gone', body: '' },
      { type: 'file', name: 'etc/.wh.never-existed', body: '' },
      { type: 'file', name: 'cache/new', body: 'mine' },
      { type: 'file', name: 'cache/.wh..wh..opq', body: '' },
    ], root, 'apply');
    assert.equal(fs.existsSync(path.join(root, 'etc/gone')), false);
    assert.equal(fs.existsSync(path.join(root, 'etc/stays')), true);
    assert.deepEqual(fs.readdirSync(path.join(root, 'cache')), ['new'], 'a layer keeps its own entries in an opaque dir');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('limits stop a decompression bomb before its data is written', async () => {
  const root = tmp();
  try {
    await assert.rejects(extract([{ type: 'file', name: 'big', body: Buffer.alloc(4096) }], root, 'overlay', { maxBytes: 1000 }),
      (err) => isKind(err, 'InvalidArgument') && /layer tar: big: contents exceed the limit of 1000 bytes/.test((err as Error).message));
    assert.equal(fs.existsSync(path.join(root, 'big')), false);
    await assert.rejects(extract([{ type: 'file', name: 'a', body: '' }, { type: 'file', name: 'b', body: '' }, { type: 'file', name: 'c', body: '' }], root, 'overlay', { maxEntries: 2 }),
      (err) => isKind(err, 'InvalidArgument') && /more than 2 entries/.test((err as Error).message));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a truncated or garbage stream is refused as an invalid tar', async () => {
  const root = tmp();
  try {
    const tar = await buildTar([{ type: 'file', name: 'f', body: Buffer.alloc(5000, 1) }]);
    await assert.rejects(extractLayer(Readable.from([tar.subarray(0, 1500)]), root, { special, whiteouts: 'overlay' }),
      (err) => isKind(err, 'InvalidArgument') && /^layer tar: /.test((err as Error).message));
    await assert.rejects(extractLayer(Readable.from([Buffer.alloc(1024, 0x41)]), root, { special, whiteouts: 'overlay' }),
      (err) => isKind(err, 'InvalidArgument'));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('compression is sniffed: gzip inflates, plain passes, zstd says what is missing', async () => {
  const tar = await buildTar([{ type: 'file', name: 'f', body: 'hello' }]);
  assert.equal(sniffCompression(zlib.gzipSync(tar)), 'gzip');
  assert.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0])), 'zstd');
  assert.equal(sniffCompression(tar), 'none');
  for (const blob of [zlib.gzipSync(tar), tar]) {
    const out: Buffer[] = [];
    for await (const c of await decompressStream(Readable.from([blob]))) out.push(c as Buffer);
    assert.deepEqual(Buffer.concat(out), tar);
  }
  if (typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress !== 'function') {
    await assert.rejects(decompressStream(Readable.from([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3])])),
      (err) => isKind(err, 'NotImplemented') && /zstd/.test((err as Error).message));
  }
});

test('packDirectory then extract reproduces the tree, binary xattrs included', async () => {
  const a = tmp();
  const b = tmp();
  try {
    await extract([
      { type: 'dir', name: 'd/', mode: 0o750, mtime: 1_600_000_000 },
      { type: 'file', name: 'd/f', body: 'data', mode: 0o640, uid: 5, gid: 6, xattrs: { 'security.capability': CAP } },
      { type: 'link', name: 'd/g', target: 'd/f' },
      { type: 'symlink', name: 's', target: 'd/f' },
      { type: 'file', name: `${'x'.repeat(150)}`, body: 'long', xattrs: { 'user.a': 'b' } },
    ], a);
    await extractLayer(packDirectory(a, special), b, { special, whiteouts: 'overlay' });
    for (const p of ['d', 'd/f', 'd/g', 's', 'x'.repeat(150)]) {
      const sa = fs.lstatSync(path.join(a, p));
      const sb = fs.lstatSync(path.join(b, p));
      assert.deepEqual([sb.mode, sb.uid, sb.gid, sb.size, sb.mtimeMs], [sa.mode, sa.uid, sa.gid, sa.size, sa.mtimeMs], p);
    }
    assert.equal(fs.lstatSync(path.join(b, 'd/g')).ino, fs.lstatSync(path.join(b, 'd/f')).ino);
    assert.deepEqual(special.lgetxattr(path.join(b, 'd/f'), 'security.capability'), CAP);
    assert.equal(special.lgetxattr(path.join(b, 'x'.repeat(150)), 'user.a')?.toString(), 'b');
  } finally {
    fs.rmSync(a, { recursive: true, force: true });
    fs.rmSync(b, { recursive: true, force: true });
  }
});
