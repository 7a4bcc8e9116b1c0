import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import {
  BackupStreamId,
  decodeBackupStream,
  decodeExtendedAttributes,
  decodeReparsePoint,
  decodeTombstones,
  encodeBackupStream,
  encodeExtendedAttributes,
  encodeReparsePoint,
  encodeTombstones,
  FileAttribute,
  formatPaxTime,
  fromFileTime,
  parsePaxTime,
  readTransportFolder,
  readWindowsLayerTar,
  toFileTime,
  WindowsLayerTarWriter,
  writeTombstones,
  writeTransportFolder,
  type LayerEntry,
} from '../../../engine/src/platform/windows/layerTar';
import { SiloError } from '../../../engine/src/errors';

async function bytes(s: AsyncIterable<Uint8Array> | Buffer): Promise<Buffer> {
  if (Buffer.isBuffer(s)) return s;
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** Entries with their bodies read into memory, for comparing. */
async function collect(entries: AsyncIterable<LayerEntry>): Promise<LayerEntry[]> {
  const out: LayerEntry[] = [];
  for await (const e of entries) {
    if (e.type === 'file' || e.type === 'alternateStream') out.push({ ...e, body: await bytes(e.body) });
    else out.push(e);
  }
  return out;
}

async function writeTar(entries: LayerEntry[]): Promise<Buffer> {
  const w = new WindowsLayerTarWriter();
  const done = bytes(w.stream as unknown as AsyncIterable<Uint8Array>);
  for (const e of entries) await w.add(e);
  w.finalize();
  return done;
}

const T = 1700000000_123456700n; // ns since 1970, with sub-second precision
const SD = Buffer.from('0100048014000000300000000000000000000000', 'hex'); // a self-relative SD header (synthetic)

function synthetic(): LayerEntry[] {
  const dir = (p: string): LayerEntry => ({ type: 'directory', path: p, info: { attributes: FileAttribute.Directory, lastWriteTime: T, creationTime: T - 5n, lastAccessTime: T } });
  const data = Buffer.from('hello from Windows\r\n');
  return [
    dir('Files'),
    dir('Files/Program Files'),
    {
      type: 'file',
      path: 'Files/Program Files/app.exe',
      info: {
        attributes: FileAttribute.Archive | FileAttribute.ReadOnly,
        lastWriteTime: T,
        creationTime: T - 1000n,
        lastAccessTime: T + 7n,
        changeTime: T + 9n,
        securityDescriptor: SD,
        extendedAttributes: [{ name: '$KERNEL.PURGE.ESBCACHE', value: Buffer.from([1, 2, 3]) }, { name: 'USER.X', value: Buffer.from('v') }],
      },
      size: data.length,
      body: data,
    },
    { type: 'alternateStream', path: 'Files/Program Files/app.exe:Zone.Identifier', size: 25, body: Buffer.from('[ZoneTransfer]\r\nZoneId=3\r\n'.slice(0, 25)) },
    { type: 'reparsePoint', path: 'Files/Documents and Settings', info: { attributes: FileAttribute.Directory | FileAttribute.ReparsePoint | FileAttribute.Hidden, lastWriteTime: T }, target: 'C:\\Users', mountPoint: true },
    { type: 'reparsePoint', path: 'Files/Program Files/latest.exe', info: { attributes: FileAttribute.ReparsePoint | FileAttribute.Archive, lastWriteTime: T }, target: 'app.exe', mountPoint: false },
    { type: 'hardLink', path: 'Files/Program Files/app-link.exe', target: 'Files/Program Files/app.exe' },
    { type: 'whiteout', path: 'Files/Program Files/old.dll' },
    dir('Hives'),
    { type: 'file', path: 'Hives/System_Delta', info: { attributes: FileAttribute.Archive, lastWriteTime: T }, size: 4, body: Buffer.from('regf') },
    dir('UtilityVM'),
    dir('UtilityVM/Files'),
    { type: 'file', path: 'UtilityVM/Files/bootmgr', info: { attributes: FileAttribute.Archive, lastWriteTime: T }, size: 3, body: Buffer.from('MZ!') },
  ];
}

test('the Win32 backup stream encodes WIN32_STREAM_ID headers and decodes them back', () => {
  const enc = encodeBackupStream([
    { id: BackupStreamId.Security, attributes: 0, name: '', data: SD },
    { id: BackupStreamId.Data, attributes: 0, name: '', data: Buffer.from('abc') },
    { id: BackupStreamId.AlternateData, attributes: 0, name: ':s:$DATA', data: Buffer.from('x') },
  ]);
  assert.equal(enc.readUInt32LE(0), 3);
  assert.equal(enc.readBigUInt64LE(8), BigInt(SD.length));
  assert.equal(enc.length, 20 + SD.length + 20 + 3 + 20 + 16 + 1);
  const dec = decodeBackupStream(enc);
  assert.deepEqual(dec.map((s) => [s.id, s.name, s.size, s.data.toString('hex')]), [
    [3, '', SD.length, SD.toString('hex')],
    [1, '', 3, '616263'],
    [4, ':s:$DATA', 1, '78'],
  ]);
  assert.throws(() => decodeBackupStream(enc.subarray(0, enc.length - 1)), SiloError);
  assert.throws(() => decodeBackupStream(enc.subarray(0, 10)), SiloError);
});

test('extended attributes are 4-byte aligned FILE_FULL_EA_INFORMATION records', () => {
  const eas = [{ name: 'A', value: Buffer.from([9]) }, { name: 'LONGER', value: Buffer.from('value'), flags: 0x80 }];
  const b = encodeExtendedAttributes(eas);
  assert.equal(b.readUInt32LE(0), 12); // 8 + 1 + 1 + 1 = 11, padded to 12
  assert.equal(b.length, 12 + 8 + 6 + 1 + 5);
  assert.deepEqual(decodeExtendedAttributes(b), eas);
});

test('symbolic links and junctions round-trip through reparse data', () => {
  for (const rp of [
    { target: 'C:\\Users', mountPoint: true },
    { target: 'C:\\Windows\\notepad.exe', mountPoint: false },
    { target: '..\\sibling', mountPoint: false },
    { target: '\\\\server\\share', mountPoint: false },
  ]) {
    assert.deepEqual(decodeReparsePoint(encodeReparsePoint(rp)), rp);
  }
  const rel = encodeReparsePoint({ target: 'x', mountPoint: false });
  assert.equal(rel.readUInt32LE(0), 0xa000000c);
  assert.equal(rel.readUInt32LE(16), 1, 'relative flag');
  const abs = encodeReparsePoint({ target: 'C:\\x', mountPoint: true });
  assert.equal(abs.toString('utf16le', 16, 16 + abs.readUInt16LE(10)), '\\??\\C:\\x', 'NT substitute name');
});

test('PAX times keep nanoseconds and trim trailing zeros, like Go', () => {
  assert.equal(formatPaxTime(1700000000_000000000n), '1700000000');
  assert.equal(formatPaxTime(1700000000_500000000n), '1700000000.5');
  assert.equal(formatPaxTime(T), '1700000000.1234567');
  assert.equal(parsePaxTime('1700000000.1234567', 'mtime'), T);
  assert.equal(formatPaxTime(-1_500000000n), '-1.5');
  assert.equal(parsePaxTime('-1.5', 'mtime'), -1_500000000n);
  assert.equal(fromFileTime(toFileTime(T)), T - (T % 100n));
  assert.equal(toFileTime(0n), 116444736000000000n);
});

test('a synthetic Windows layer round-trips through the tar byte for byte', async () => {
  const first = await writeTar(synthetic());
  const read = await collect(readWindowsLayerTar(Readable.from([first])));
  assert.deepEqual(read, synthetic());
  const second = await writeTar(read);
  assert.ok(first.equals(second), 'same bytes');
});

test('the tar carries the MSWINDOWS PAX records go-winio writes', async () => {
  const tar = await writeTar(synthetic());
  const text = tar.toString('latin1');
  assert.match(text, /\d+ MSWINDOWS\.fileattr=33\n/);
  assert.match(text, new RegExp(`\\d+ MSWINDOWS\\.rawsd=${SD.toString('base64').replace(/[+/]/g, '\\$&')}\n`));
  assert.match(text, /\d+ MSWINDOWS\.mountpoint=1\n/);
  assert.match(text, /\d+ MSWINDOWS\.xattr\.USER\.X=dg==\n/);
  assert.match(text, /\d+ LIBARCHIVE\.creationtime=1700000000\.1234557\n/);
  assert.match(text, /Files\/Program Files\/\.wh\.old\.dll/);
});

test('a layer tar goes into an ImportLayer transport folder and comes back from an export', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'silo-transport-'));
  try {
    const root = path.join(dir, 'import');
    const tar = await writeTar(synthetic().filter((e) => !e.path.startsWith('UtilityVM')));
    const imported = await writeTransportFolder(root, readWindowsLayerTar(Readable.from([tar])));
    assert.deepEqual(imported, {
      tombstones: ['Files/Program Files/old.dll'],
      hardLinks: [{ path: 'Files/Program Files/app-link.exe', target: 'Files/Program Files/app.exe' }],
      reparseDirectories: ['Files/Documents and Settings'],
    });

    // Files\...: attributes, then the backup stream in go-winio's order.
    const exe = await fs.readFile(path.join(root, 'Files', 'Program Files', 'app.exe'));
    assert.equal(exe.readUInt32LE(0), FileAttribute.Archive | FileAttribute.ReadOnly);
    assert.deepEqual(decodeBackupStream(exe.subarray(4)).map((s) => [s.id, s.name]), [
      [BackupStreamId.Security, ''],
      [BackupStreamId.ExtendedAttributes, ''],
      [BackupStreamId.Data, ''],
      [BackupStreamId.AlternateData, ':Zone.Identifier:$DATA'],
    ]);
    // Directories: the folder plus <dir>.$wcidirs$; a reparse directory only as an empty placeholder.
    assert.ok((await fs.stat(path.join(root, 'Files', 'Program Files'))).isDirectory());
    const meta = await fs.readFile(path.join(root, 'Files', 'Program Files.$wcidirs$'));
    assert.equal(meta.readUInt32LE(0), FileAttribute.Directory);
    const junction = await fs.readFile(path.join(root, 'Files', 'Documents and Settings.$wcidirs$'));
    assert.equal(decodeBackupStream(junction.subarray(4))[0].id, BackupStreamId.ReparseData);
    assert.deepEqual(await fs.readdir(path.join(root, 'Files', 'Documents and Settings')), []);
    // Hives hold the hive bytes themselves.
    assert.equal(await fs.readFile(path.join(root, 'Hives', 'System_Delta'), 'utf8'), 'regf');
    assert.equal((await fs.readdir(root)).includes('tombstones.txt'), false, 'whiteouts are applied after ImportLayer, never handed to it');

    // Read it back the way ExportLayer output is read.
    await writeTombstones(root, imported.tombstones);
    const back = await collect(readTransportFolder(root));
    const strip = (e: LayerEntry) => {
      if (e.type === 'whiteout' || e.type === 'hardLink' || e.type === 'alternateStream') return e;
      const { attributes, securityDescriptor, extendedAttributes } = e.info;
      return { ...e, info: { attributes, securityDescriptor, extendedAttributes } };
    };
    const want = synthetic()
      .filter((e) => !e.path.startsWith('UtilityVM') && e.type !== 'hardLink')
      .map((e) => (e.type === 'reparsePoint' && e.path.endsWith('latest.exe') ? e : e));
    const order = (l: LayerEntry[]) => l.map(strip).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const normalise = (l: LayerEntry[]) =>
      order(l).map((e) => {
        if (e.type === 'hardLink' || e.type === 'whiteout' || e.type === 'alternateStream') return e;
        const info = { ...e.info };
        if (e.path === 'Files' || e.path === 'Hives' || e.path === 'Hives/System_Delta') {
          info.attributes = e.type === 'directory' ? FileAttribute.Directory : FileAttribute.Archive;
        }
        for (const k of ['securityDescriptor', 'extendedAttributes'] as const) if (info[k] === undefined) delete info[k];
        return { ...e, info };
      });
    assert.deepEqual(normalise(back), normalise(want));
    // mtimes survive on any host; the folder times of Files and Hives come from Hives\System_Delta.
    const exeBack = back.find((e) => e.path === 'Files/Program Files/app.exe');
    assert.ok(exeBack && exeBack.type === 'file');
    const drift = exeBack.info.lastWriteTime - T;
    assert.ok(drift > -2_000_000n && drift < 2_000_000n, `write time kept to the millisecond (drift ${drift} ns)`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('tombstones.txt is BOM + Version 1.0 + backslash paths', () => {
  const text = encodeTombstones(['Files/a/b.txt', 'Files/c']);
  assert.equal(text, '\ufeffVersion 1.0\r\n\\a\\b.txt\r\n\\c\r\n');
  assert.deepEqual(decodeTombstones(text), ['Files/a/b.txt', 'Files/c']);
  assert.throws(() => decodeTombstones('Version 2\r\n'), SiloError);
});

test('a layer that changes the utility VM needs a Windows host to import', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'silo-transport-'));
  try {
    const tar = await writeTar(synthetic());
    await assert.rejects(writeTransportFolder(path.join(dir, 'x'), readWindowsLayerTar(Readable.from([tar]))), /utility VM/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

// ---- hostile layers (CVE-2018-8115 class) ----

type RawEntry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device'; linkname?: string; body?: string; pax?: Record<string, string> };

async function rawTar(entries: RawEntry[]): Promise<Buffer> {
  const p = pack();
  const done = bytes(p as unknown as AsyncIterable<Uint8Array>);
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, pax: e.pax, mode: 0o644 }, Buffer.from(e.body ?? ''), (err) => (err ? reject(err) : resolve())),
    );
  }
  p.finalize();
  return done;
}

const hostile: Array<[string, RawEntry[]]> = [
  ['parent traversal', [{ name: '../evil.txt' }]],
  ['traversal inside Files', [{ name: 'Files/../../evil.txt' }]],
  ['absolute path', [{ name: '/Files/evil.txt' }]],
  ['drive letter', [{ name: 'C:/Windows/evil.txt' }]],
  ['backslash traversal', [{ name: 'Files/a\\..\\..\\evil.txt' }]],
  ['colon outside a stream', [{ name: 'Files/a:b/c' }]],
  ['stream without its file', [{ name: 'Files/x.txt:hidden' }]],
  ['stream of another file', [{ name: 'Files/a.txt' }, { name: 'Files/b.txt:hidden' }]],
  ['trailing dots', [{ name: 'Files/...' }]],
  ['device name', [{ name: 'Files/CON' }]],
  ['outside the sections', [{ name: 'Other/evil.txt' }]],
  ['UtilityVM outside Files', [{ name: 'UtilityVM/evil.txt' }]],
  ['folder in Hives', [{ name: 'Hives/a/b' }]],
  ['through a symlink', [{ name: 'Files/link', type: 'symlink', linkname: 'C:/Windows' }, { name: 'Files/link/System32/evil.dll' }]],
  ['through a junction, other case', [{ name: 'Files/j', type: 'symlink', linkname: 'C:/', pax: { 'MSWINDOWS.mountpoint': '1', 'MSWINDOWS.fileattr': '1040' } }, { name: 'Files/J/evil.txt' }]],
  ['directory under a symlink', [{ name: 'Files/link', type: 'symlink', linkname: 'C:/' }, { name: 'Files/link/d', type: 'directory' }]],
  ['hard link through a symlink', [{ name: 'Files/link', type: 'symlink', linkname: 'C:/' }, { name: 'Files/h', type: 'link', linkname: 'Files/link/Windows/win.ini' }]],
  ['hard link out of Files', [{ name: 'Files/h', type: 'link', linkname: 'Hives/System_Delta' }]],
  ['hard link with traversal', [{ name: 'Files/h', type: 'link', linkname: 'Files/../../x' }]],
  ['whiteout through a symlink', [{ name: 'Files/link', type: 'symlink', linkname: 'C:/Windows' }, { name: 'Files/link/.wh.System32' }]],
  ['whiteout in Hives', [{ name: 'Hives/.wh.System_Delta' }]],
  ['opaque whiteout', [{ name: 'Files/d/.wh..wh..opq' }]],
  ['whiteout with content', [{ name: 'Files/.wh.x', body: 'data' }]],
  ['device entry', [{ name: 'Files/dev', type: 'character-device' }]],
  ['section root as reparse point', [{ name: 'Files', type: 'symlink', linkname: 'C:/' }]],
  ['bad attributes', [{ name: 'Files/a', pax: { 'MSWINDOWS.fileattr': 'lots' } }]],
];

for (const [what, entries] of hostile) {
  test(`a hostile layer is refused before anything is written: ${what}`, async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'silo-hostile-'));
    try {
      const tar = await rawTar(entries);
      await assert.rejects(writeTransportFolder(path.join(dir, 'layer'), readWindowsLayerTar(Readable.from([tar]))), (err: unknown) => {
        assert.ok(err instanceof SiloError, String(err));
        assert.equal(err.kind, 'InvalidArgument', err.message);
        return true;
      });
      assert.deepEqual((await fs.readdir(dir)).filter((n) => n !== 'layer'), [], 'nothing outside the layer folder');
      assert.equal(await fs.stat(path.join(os.tmpdir(), 'evil.txt')).catch(() => undefined), undefined);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
}

test('alternate streams and whiteouts in the right places are accepted', async () => {
  const tar = await rawTar([
    { name: 'Files/a.txt', body: 'a' },
    { name: 'Files/a.txt:s1', body: 'x' },
    { name: 'Files/a.txt:s2', body: 'y' },
    { name: 'Files/d/.wh.gone' },
    { name: 'UtilityVM/Files/.wh.gone' },
  ]);
  const entries = await collect(readWindowsLayerTar(Readable.from([tar])));
  assert.deepEqual(entries.map((e) => [e.type, e.path]), [
    ['file', 'Files/a.txt'],
    ['alternateStream', 'Files/a.txt:s1'],
    ['alternateStream', 'Files/a.txt:s2'],
    ['whiteout', 'Files/d/gone'],
    ['whiteout', 'UtilityVM/Files/gone'],
  ]);
});
