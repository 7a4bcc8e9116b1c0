// Contract tests of the windowsfilter Snapshotter against test/fixtures/hcs/fixture_vmcompute.c (a C
// library exporting vmcompute's layer functions, working on plain folders) and the fixture file writer
// standing in for BackupWrite: a whole base + delta import, a container scratch, its diff and export,
// and the layers a hostile tar must never produce.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { pack } from 'tar-stream';
import koffi from 'koffi';
import { WindowsFilterSnapshotter } from '../../../engine/src/platform/windows/windowsfilter/snapshotter';
import { VmcomputeLayers } from '../../../engine/src/platform/windows/windowsfilter/layerApi';
import { VmcomputeLayerMounter } from '../../../engine/src/platform/windows/layerMount';
import { parseWindowsLayerMount } from '../../../engine/src/platform/windows/windowsLayerMount';
import { readWindowsLayerTar, type LayerEntry } from '../../../engine/src/platform/windows/layerTar';
import { windowsLayerTar as layerTar } from './fixtureLayerTar';
import { SiloError } from '../../../engine/src/errors';
import { FixtureLayerFileWriter } from '../../fixtures/hcs/fixtureLayerFileWriter';
import { buildHcsFixture, skipWithoutCompiler as skip } from './hcsFixture';

let fixture: { lib: string; cleanup: () => void } | undefined;
let vmLog: () => string[];
let vmReset: () => void;
let root = '';
let files: FixtureLayerFileWriter;
let snap: WindowsFilterSnapshotter;

before(() => {
  if (skip) return;
  fixture = buildHcsFixture('vmcompute');
  const fx = koffi.load(fixture.lib);
  const log = fx.func('const char *FixtureVmcomputeLog(void)');
  vmLog = () => (log() as string).split('\n').filter((l) => l !== '');
  vmReset = fx.func('void FixtureVmcomputeReset(void)') as () => void;
});

after(() => fixture?.cleanup());
afterEach(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  if (skip) return;
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'silo-windowsfilter-'));
  files = new FixtureLayerFileWriter();
  snap = new WindowsFilterSnapshotter({
    layersDir: path.join(root, 'layers'),
    snapshotsDir: path.join(root, 'snapshots'),
    tmpDir: path.join(root, 'tmp'),
    layers: new VmcomputeLayers(fixture!.lib),
    files,
  });
  vmReset();
});

const T = 1700000000_000000000n;
const info = (dir = false) => ({ attributes: dir ? 0x10 : 0x20, lastWriteTime: T });
const dir = (p: string): LayerEntry => ({ type: 'directory', path: p, info: info(true) });
const file = (p: string, text: string): LayerEntry => ({ type: 'file', path: p, info: info(), size: Buffer.byteLength(text), body: Buffer.from(text) });
const chain = (n: string) => 'sha256:' + createHash('sha256').update(n).digest('hex');
const hex = (c: string) => c.slice('sha256:'.length);


/** A tar with raw names, as a hostile image could carry (the writer above would never make them). */
async function rawTar(entries: Array<{ name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; body?: string; linkname?: string }>): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((r) => p.on('end', () => r()));
  for (const e of entries) {
    await new Promise<void>((res, rej) => p.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, size: e.body?.length ?? 0 }, e.body ?? '', (err) => (err ? rej(err) : res())));
  }
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

const baseEntries = (): LayerEntry[] => [
  dir('Files'),
  dir('Files/Windows'),
  file('Files/Windows/a.txt', 'base a'),
  { type: 'alternateStream', path: 'Files/Windows/a.txt:Zone.Identifier', size: 3, body: Buffer.from('ads') },
  file('Files/Windows/b.txt', 'base b'),
  { type: 'hardLink', path: 'Files/Windows/a-link.txt', target: 'Files/Windows/a.txt' },
  { type: 'reparsePoint', path: 'Files/Docs', info: info(true), target: 'C:\\Windows', mountPoint: true },
  dir('Hives'),
  file('Hives/System_Delta', 'hive'),
  dir('UtilityVM'),
  dir('UtilityVM/Files'),
  file('UtilityVM/Files/uvm.txt', 'uvm'),
];

const deltaEntries = (): LayerEntry[] => [
  dir('Files'),
  dir('Files/Windows'),
  file('Files/Windows/c.txt', 'delta c'),
  { type: 'whiteout', path: 'Files/Windows/b.txt' },
  file('Files/Windows/tmp.bin', 'scratch'),
  { type: 'whiteout', path: 'Files/Windows/tmp.bin' },
  { type: 'hardLink', path: 'Files/Windows/a2.txt', target: 'Files/Windows/a.txt' },
];

async function importBaseAndDelta() {
  const base = chain('base');
  const delta = chain('delta');
  const r1 = await snap.applyLayer(base, undefined, Readable.from(await layerTar(baseEntries())));
  const r2 = await snap.applyLayer(delta, base, Readable.from(await layerTar(deltaEntries())));
  return { base, delta, r1, r2 };
}

const read = (...p: string[]) => fs.readFileSync(path.join(root, ...p), 'utf8');
const exists = (...p: string[]) => fs.existsSync(path.join(root, ...p));

test('a base and a delta layer import into windowsfilter folders with the calls in order', { skip }, async () => {
  const { base, delta, r1, r2 } = await importBaseAndDelta();
  const b = hex(base);
  const d = hex(delta);

  // Base layer: written file by file, hard link direct, the reparse point last, then processed.
  assert.equal(read('layers', b, 'Files/Windows/a.txt'), 'base a');
  assert.equal(read('layers', b, 'Files/Windows/a.txt:Zone.Identifier'), 'ads');
  assert.equal(fs.statSync(path.join(root, 'layers', b, 'Files/Windows/a-link.txt')).ino, fs.statSync(path.join(root, 'layers', b, 'Files/Windows/a.txt')).ino);
  assert.equal(fs.readlinkSync(path.join(root, 'layers', b, 'Files/Docs')), 'C:/Windows');
  assert.ok(exists('layers', b, 'blank.vhdx'), 'ProcessBaseImage ran on the folder');
  assert.ok(exists('layers', b, 'UtilityVM', 'SystemTemplate.vhdx'), 'ProcessUtilityImage ran on UtilityVM');
  const creates = files.log.filter((l) => l.startsWith('create'));
  assert.equal(creates.at(-1), 'create reparsePoint Files/Docs');
  assert.ok(files.log.indexOf('link Files/Windows/a-link.txt -> Files/Windows/a.txt') < files.log.indexOf('create reparsePoint Files/Docs'));

  // Delta layer: through a transport folder and ImportLayer with its parents; no tombstones.txt.
  assert.equal(read('layers', d, 'Files/Windows/c.txt'), 'delta c');
  assert.ok(!exists('layers', d, 'Files/Windows/tmp.bin'), 'the whiteout removed the file after ImportLayer');
  assert.equal(read('layers', d, 'Files/Windows/a2.txt'), 'base a', 'hard link into the parent layer');
  assert.ok(files.log.includes('remove Files/Windows/b.txt'));
  assert.ok(files.log.includes(`link Files/Windows/a2.txt -> Files/Windows/a.txt in ${b}`));
  assert.deepEqual(vmLog(), [`ProcessBaseImage ${b}`, 'ProcessUtilityImage UtilityVM', `ImportLayer ${d} parents=${b}`]);
  assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), [], 'transport folder removed');

  assert.equal(r1.size, 'base a'.length + 3 + 'base b'.length + 'hive'.length + 'uvm'.length);
  for (const r of [r1, r2]) {
    for (const k of ['decompressMs', 'writeMs', 'importMs', 'processMs', 'stalledMs', 'totalMs'] as const) assert.ok(r.timings[k] >= 0, k);
    assert.ok(r.timings.totalMs > 0);
  }
  assert.ok(r1.timings.processMs > 0 && r2.timings.importMs > 0);
  assert.deepEqual((await snap.list()).layers.sort(), [base, delta].sort());
  assert.equal(await snap.hasLayer(delta), true);

  // Applying an existing layer again is a no-op.
  vmReset();
  await snap.applyLayer(delta, base, Readable.from(await layerTar(deltaEntries())));
  assert.deepEqual(vmLog(), []);
});

test('a delta layer over a missing parent is refused', { skip }, async () => {
  await assert.rejects(snap.applyLayer(chain('x'), chain('nope'), Readable.from(await layerTar(deltaEntries()))), (e: SiloError) => e.kind === 'FailedPrecondition');
});

const outside = () => path.join(root, 'outside');

for (const [what, entries] of [
  ['a .. component', [{ name: 'Files/', type: 'directory' }, { name: 'Files/a.txt', body: 'ok' }, { name: 'Files/../../outside/evil.txt', body: 'x' }]],
  ['an absolute name', [{ name: 'Files/', type: 'directory' }, { name: '/tmp/evil.txt', body: 'x' }]],
  ['a drive letter', [{ name: 'C:/Windows/evil.txt', body: 'x' }]],
  ["a ':' outside an alternate data stream", [{ name: 'Files/', type: 'directory' }, { name: 'Files/dir:x/evil.txt', body: 'x' }]],
  ['an alternate stream not after its file', [{ name: 'Files/', type: 'directory' }, { name: 'Files/other.txt:evil', body: 'x' }]],
  ['a path through a reparse point made earlier in the tar', [
    { name: 'Files/', type: 'directory' },
    { name: 'Files/escape', type: 'symlink', linkname: '__OUTSIDE__' },
    { name: 'Files/escape/evil.txt', body: 'x' },
  ]],
  ['a hard link through a reparse point', [
    { name: 'Files/', type: 'directory' },
    { name: 'Files/escape', type: 'symlink', linkname: '__OUTSIDE__' },
    { name: 'Files/evil.txt', type: 'link', linkname: 'Files/escape/passwd' },
  ]],
] as const) {
  for (const kind of ['base', 'delta'] as const) {
    test(`a ${kind} layer with ${what} is refused and leaves nothing behind`, { skip }, async () => {
      fs.mkdirSync(outside());
      const base = chain('base');
      if (kind === 'delta') await snap.applyLayer(base, undefined, Readable.from(await layerTar(baseEntries())));
      files.log.length = 0;
      vmReset();
      const raw = entries.map((e) => ('linkname' in e && e.linkname === '__OUTSIDE__' ? { ...e, linkname: outside() } : e));
      const id = chain(`evil ${what}`);
      await assert.rejects(snap.applyLayer(id, kind === 'delta' ? base : undefined, Readable.from(await rawTar(raw as never))), (e: SiloError) => e.kind === 'InvalidArgument');
      assert.deepEqual(fs.readdirSync(outside()), [], 'nothing written outside the layer');
      assert.equal(await snap.hasLayer(id), false);
      assert.ok(!exists('layers', hex(id)), 'the layer folder is gone');
      assert.ok(!files.log.some((l) => l.includes('evil') || l.includes('reparsePoint')), `no write of the bad entry or the link: ${files.log.join(', ')}`);
      assert.ok(!vmLog().some((l) => l.startsWith('ImportLayer') || l.startsWith('ProcessBaseImage')), 'Windows never saw the layer');
      assert.ok(!exists('tmp') || fs.readdirSync(path.join(root, 'tmp')).length === 0, 'no transport folder left');
    });
  }
}

test('a base layer with a whiteout is refused', { skip }, async () => {
  const id = chain('wh');
  await assert.rejects(snap.applyLayer(id, undefined, Readable.from(await layerTar([dir('Files'), { type: 'whiteout', path: 'Files/x' }]))), (e: SiloError) => e.kind === 'InvalidArgument');
  assert.equal(await snap.hasLayer(id), false);
});

test('more content than the limit allows is refused', { skip }, async () => {
  const id = chain('big');
  await assert.rejects(snap.applyLayer(id, undefined, Readable.from(await layerTar(baseEntries())), { maxBytes: 5 }), /more than 5 bytes/);
  assert.ok(!exists('layers', hex(id)));
});

test('a container scratch is created, mounted in parent order, diffed and exported; the export imports again', { skip }, async () => {
  const { base, delta } = await importBaseAndDelta();
  const b = hex(base);
  const d = hex(delta);
  vmReset();
  const mounts = await snap.prepare('c1', delta);
  const chainInfo = parseWindowsLayerMount(mounts);
  assert.deepEqual(chainInfo, { scratchPath: path.join(root, 'snapshots', 'c1'), parentLayerPaths: [path.join(root, 'layers', d), path.join(root, 'layers', b)] });
  assert.deepEqual(await snap.mounts('c1'), mounts);
  assert.ok(exists('snapshots', 'c1', 'sandbox.vhdx'));
  assert.deepEqual(JSON.parse(read('snapshots', 'c1', 'layerchain.json')), chainInfo.parentLayerPaths);

  // The runtime's mount step: Activate, Prepare (immediate parent first), GetLayerMountPath.
  const mounter = new VmcomputeLayerMounter(fixture!.lib);
  const volume = await mounter.mount(chainInfo);
  assert.equal(volume, path.join(root, 'snapshots', 'c1', 'volume'));
  // The "container" writes a file and deletes one of the image's.
  fs.mkdirSync(path.join(volume, 'app'));
  fs.writeFileSync(path.join(volume, 'app', 'out.txt'), 'made in the container');
  fs.writeFileSync(volume + '.deleted', 'Files/Windows/a.txt\n');
  await mounter.unmount(chainInfo);
  assert.deepEqual(vmLog(), [
    `CreateSandboxLayer c1 parents=${d},${b}`,
    'ActivateLayer c1',
    `PrepareLayer c1 parents=${d},${b}`,
    'GetLayerMountPath c1',
    'UnprepareLayer c1',
    'DeactivateLayer c1',
  ]);

  vmReset();
  assert.deepEqual(await snap.changes('c1'), [
    { kind: 'D', path: '/Windows/a.txt' },
    { kind: 'C', path: '/app' },
    { kind: 'C', path: '/app/out.txt' },
  ]);
  assert.deepEqual(vmLog(), ['ActivateLayer c1', `PrepareLayer c1 parents=${d},${b}`, 'UnprepareLayer c1', `ExportLayer c1 parents=${d},${b}`, 'DeactivateLayer c1']);

  const chunks: Buffer[] = [];
  for await (const c of snap.exportChanges('c1')) chunks.push(c as Buffer);
  const tar = Buffer.concat(chunks);
  const seen: string[] = [];
  for await (const e of readWindowsLayerTar(Readable.from(tar))) {
    seen.push(`${e.type} ${e.path}`);
    if (e.type === 'file') for await (const _ of e.body) void _;
  }
  assert.ok(seen.includes('whiteout Files/Windows/a.txt'), seen.join(', '));
  assert.ok(seen.includes('file Files/app/out.txt'), seen.join(', '));

  // The export is a layer: it imports over the image's chain.
  const committed = chain('committed');
  files.log.length = 0;
  await snap.applyLayer(committed, delta, Readable.from(tar));
  assert.equal(read('layers', hex(committed), 'Files/app/out.txt'), 'made in the container');
  assert.ok(files.log.includes('remove Files/Windows/a.txt'));
  assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), [], 'export folders removed');

  // Removal: layers in use stay; the scratch goes with DestroyLayer.
  await assert.rejects(snap.removeLayer(delta), (e: SiloError) => e.kind === 'FailedPrecondition');
  vmReset();
  await snap.remove('c1');
  assert.deepEqual(vmLog(), ['DestroyLayer c1']);
  assert.ok(!exists('snapshots', 'c1'));
  await snap.removeLayer(committed);
  await snap.removeLayer(delta);
  assert.deepEqual(await snap.list(), { layers: [base], snapshots: [] });
});

test('a Windows container needs a base layer', { skip }, async () => {
  await assert.rejects(snap.prepare('c2', undefined), (e: SiloError) => e.kind === 'InvalidArgument');
});

test('the tar is read while files are written, and the result says where the time went', { skip }, async () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const entries: LayerEntry[] = [dir('Files')];
  for (let i = 0; i < 30; i++) entries.push(file(`Files/f${String(i).padStart(2, '0')}.txt`, 'x'.repeat(400)));
  const tar = await layerTar(entries);
  // A slow source (a slow download or decompression) and a slow disk, 8 ms per file each.
  async function* slowSource() {
    for (let o = 0; o < tar.length; o += 1536) {
      await sleep(8);
      yield tar.subarray(o, o + 1536);
    }
  }
  const slowFiles = new FixtureLayerFileWriter();
  const create = slowFiles.create.bind(slowFiles);
  slowFiles.create = async (r, e) => {
    await sleep(8);
    return create(r, e);
  };
  snap = new WindowsFilterSnapshotter({ layersDir: path.join(root, 'layers'), snapshotsDir: path.join(root, 'snapshots'), tmpDir: path.join(root, 'tmp'), layers: new VmcomputeLayers(fixture!.lib), files: slowFiles });
  const { timings } = await snap.applyLayer(chain('slow'), undefined, Readable.from(slowSource()));
  assert.ok(timings.decompressMs > 100 && timings.writeMs > 100, JSON.stringify(timings));
  // Side by side, not one after the other: the wall clock is well under the sum of both stages.
  const ratio = timings.totalMs / (timings.decompressMs + timings.writeMs);
  assert.ok(ratio < 0.85, `total/(read+write) = ${ratio.toFixed(2)} ${JSON.stringify(timings)}`);
});

test('a write that fails mid-layer stops the reader, rolls the layer back and does not hang', { skip }, async () => {
  const big = 'y'.repeat(3 << 20); // streamed, not read ahead
  const entries: LayerEntry[] = [dir('Files'), file('Files/big1.bin', big), file('Files/fails.txt', 'x'), file('Files/big2.bin', big), file('Files/after.txt', 'z')];
  const failing = new FixtureLayerFileWriter();
  const create = failing.create.bind(failing);
  failing.create = async (r, e) => {
    if (e.path === 'Files/fails.txt') throw new SiloError('Internal', 'disk full');
    return create(r, e);
  };
  snap = new WindowsFilterSnapshotter({ layersDir: path.join(root, 'layers'), snapshotsDir: path.join(root, 'snapshots'), tmpDir: path.join(root, 'tmp'), layers: new VmcomputeLayers(fixture!.lib), files: failing });
  const id = chain('fails');
  await assert.rejects(snap.applyLayer(id, undefined, Readable.from(await layerTar(entries))), /disk full/);
  assert.equal(await snap.hasLayer(id), false);
  assert.ok(!exists('layers', hex(id)));
  assert.ok(!failing.log.some((l) => l.includes('after.txt')));
});

test('a file the container linked under two names is exported once, then as a hard link, and imports linked', { skip }, async () => {
  const { delta } = await importBaseAndDelta();
  await snap.prepare('c3', delta);
  const volume = path.join(root, 'snapshots', 'c3', 'volume');
  fs.mkdirSync(path.join(volume, 'app'));
  fs.writeFileSync(path.join(volume, 'app', 'tool.exe'), 'one copy of the bytes');
  fs.linkSync(path.join(volume, 'app', 'tool.exe'), path.join(volume, 'app', 'tool-alias.exe'));
  fs.linkSync(path.join(volume, 'app', 'tool.exe'), path.join(volume, 'app', 'z-third.exe'));

  const chunks: Buffer[] = [];
  for await (const c of snap.exportChanges('c3')) chunks.push(c as Buffer);
  const tar = Buffer.concat(chunks);
  const seen: string[] = [];
  for await (const e of readWindowsLayerTar(Readable.from(tar))) {
    seen.push(e.type === 'hardLink' ? `link ${e.path} -> ${e.target}` : `${e.type} ${e.path}`);
    if (e.type === 'file') for await (const _ of e.body) void _;
  }
  // Name order: tool-alias.exe is met first and carries the bytes; the other names link to it.
  assert.deepEqual(seen.filter((l) => l.includes('/app/')), [
    'file Files/app/tool-alias.exe',
    'link Files/app/tool.exe -> Files/app/tool-alias.exe',
    'link Files/app/z-third.exe -> Files/app/tool-alias.exe',
  ]);
  assert.equal(tar.toString('latin1').split('one copy of the bytes').length - 1, 1, 'the content is in the tar once');

  const committed = chain('committed-links');
  await snap.applyLayer(committed, delta, Readable.from(tar));
  const at = (n: string) => fs.statSync(path.join(root, 'layers', hex(committed), 'Files/app', n));
  assert.equal(read('layers', hex(committed), 'Files/app/z-third.exe'), 'one copy of the bytes');
  assert.equal(at('tool.exe').ino, at('tool-alias.exe').ino);
  assert.equal(at('z-third.exe').ino, at('tool-alias.exe').ino);
});

const uvmBase = (): LayerEntry[] => [
  dir('Files'),
  file('Files/base.txt', 'base'),
  dir('Hives'),
  file('Hives/System_Delta', 'hive'),
  dir('UtilityVM'),
  dir('UtilityVM/Files'),
  file('UtilityVM/Files/uvm.txt', 'uvm'),
  file('UtilityVM/Files/keep.txt', 'keep'),
  file('UtilityVM/Files/gone.txt', 'gone'),
  dir('UtilityVM/Files/EFI'),
  dir('UtilityVM/Files/EFI/Microsoft'),
  dir('UtilityVM/Files/EFI/Microsoft/Boot'),
  file('UtilityVM/Files/EFI/Microsoft/Boot/BCD', 'boot config'),
  { type: 'reparsePoint', path: 'UtilityVM/Files/Docs', info: info(true), target: 'C:\\Windows', mountPoint: true },
];

test('a delta layer that changes the utility VM clones its parent\'s, changes the clone, never the parent', { skip }, async () => {
  const base = chain('uvm base');
  const delta = chain('uvm delta');
  await snap.applyLayer(base, undefined, Readable.from(await layerTar(uvmBase())));
  vmReset();
  files.log.length = 0;
  const r = await snap.applyLayer(delta, base, Readable.from(await layerTar([
    dir('Files'),
    file('Files/app.txt', 'app'),
    dir('UtilityVM'),
    dir('UtilityVM/Files'),
    file('UtilityVM/Files/uvm.txt', 'patched uvm'),
    file('UtilityVM/Files/new.dll', 'new'),
    { type: 'alternateStream', path: 'UtilityVM/Files/new.dll:Zone.Identifier', size: 3, body: Buffer.from('ads') },
    { type: 'whiteout', path: 'UtilityVM/Files/gone.txt' },
    { type: 'hardLink', path: 'UtilityVM/Files/keep-alias.txt', target: 'UtilityVM/Files/keep.txt' },
  ])));
  const b = (p: string) => path.join(root, 'layers', hex(base), p);
  const d = (p: string) => path.join(root, 'layers', hex(delta), p);
  const ino = (p: string) => fs.statSync(p).ino;

  assert.equal(read('layers', hex(delta), 'Files/app.txt'), 'app', 'Files went through ImportLayer as before');
  assert.equal(ino(d('UtilityVM/Files/keep.txt')), ino(b('UtilityVM/Files/keep.txt')), 'unchanged files are hard links to the parent\'s');
  assert.equal(ino(d('UtilityVM/Files/keep-alias.txt')), ino(d('UtilityVM/Files/keep.txt')), 'a link inside the utility VM');
  assert.notEqual(ino(d('UtilityVM/Files/EFI/Microsoft/Boot/BCD')), ino(b('UtilityVM/Files/EFI/Microsoft/Boot/BCD')), 'the BCD ProcessUtilityImage rewrites is a copy');
  assert.equal(fs.readFileSync(d('UtilityVM/Files/EFI/Microsoft/Boot/BCD'), 'utf8'), 'boot config');
  assert.equal(fs.readlinkSync(d('UtilityVM/Files/Docs')), 'C:/Windows', 'reparse points are copied, not followed');
  assert.equal(fs.readFileSync(d('UtilityVM/Files/uvm.txt'), 'utf8'), 'patched uvm');
  assert.equal(fs.readFileSync(b('UtilityVM/Files/uvm.txt'), 'utf8'), 'uvm', 'the parent\'s file was replaced in the clone, not written through the link');
  assert.ok(!fs.existsSync(d('UtilityVM/Files/gone.txt')) && fs.existsSync(b('UtilityVM/Files/gone.txt')), 'the whiteout removed the clone\'s file only');
  assert.equal(fs.readFileSync(d('UtilityVM/Files/new.dll:Zone.Identifier'), 'utf8'), 'ads');

  assert.deepEqual(vmLog(), [`ImportLayer ${hex(delta)} parents=${hex(base)}`, 'ProcessUtilityImage UtilityVM']);
  assert.ok(fs.existsSync(d('UtilityVM/SystemTemplate.vhdx')), 'ProcessUtilityImage ran on the new layer\'s UtilityVM');
  const at = (l: string) => files.log.indexOf(l);
  assert.ok(at('mkdir UtilityVM') >= 0 && at('mkdir UtilityVM') < at(`clone UtilityVM/Files from ${hex(base)}`), files.log.join('\n'));
  assert.ok(at('copy UtilityVM/Files/EFI/Microsoft/Boot/BCD') > at(`clone UtilityVM/Files from ${hex(base)}`));
  assert.ok(at('remove UtilityVM/Files/uvm.txt') < at('create file UtilityVM/Files/uvm.txt'));
  assert.ok(r.timings.processMs > 0 && r.timings.importMs > 0);
  assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), [], 'transport folder removed');

  // A container over the new chain boots the new layer's utility VM; the layer exports like any other.
  assert.deepEqual(parseWindowsLayerMount(await snap.prepare('uvm', delta)).parentLayerPaths, [path.join(root, 'layers', hex(delta)), path.join(root, 'layers', hex(base))]);
});

test('a delta layer that changes a utility VM no layer below has, or deletes what it lacks, is refused', { skip }, async () => {
  const base = chain('plain base');
  await snap.applyLayer(base, undefined, Readable.from(await layerTar([dir('Files'), file('Files/a.txt', 'a')])));
  const noUvm = chain('uvm over nothing');
  await assert.rejects(snap.applyLayer(noUvm, base, Readable.from(await layerTar([dir('Files'), dir('UtilityVM'), dir('UtilityVM/Files'), file('UtilityVM/Files/x', 'x')]))),
    (e: SiloError) => e.kind === 'InvalidArgument' && /no layer below it has one/.test(e.line));
  assert.equal(await snap.hasLayer(noUvm), false);
  assert.ok(!exists('layers', hex(noUvm)));

  const uvm = chain('uvm base 2');
  await snap.applyLayer(uvm, undefined, Readable.from(await layerTar(uvmBase())));
  const missing = chain('deletes what is not there');
  await assert.rejects(snap.applyLayer(missing, uvm, Readable.from(await layerTar([dir('Files'), { type: 'whiteout', path: 'UtilityVM/Files/never.txt' }]))),
    (e: SiloError) => e.kind === 'InvalidArgument' && /does not have/.test(e.line));
  assert.ok(!exists('layers', hex(missing)));
  assert.equal(read('layers', hex(uvm), 'UtilityVM/Files/keep.txt'), 'keep', 'the parent is untouched');
});
