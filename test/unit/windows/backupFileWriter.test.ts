// Contract tests of the BackupWrite layer writer (what a Windows host runs for every base layer)
// through its koffi declarations against test/fixtures/hcs/fixture_win32files.c, which exports the
// kernel32 file and advapi32 privilege functions with their Windows signatures and records what
// BackupWrite and SetFileInformationByHandle receive. The import runs through the windowsfilter
// snapshotter and the vmcompute fixture, as on Windows.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { windowsLayerTar } from './fixtureLayerTar';
import koffi from 'koffi';
import { BackupFileWriter } from '../../../engine/src/platform/windows/windowsfilter/backupFileWriter';
import { VmcomputeLayers } from '../../../engine/src/platform/windows/windowsfilter/layerApi';
import { WindowsFilterSnapshotter } from '../../../engine/src/platform/windows/windowsfilter/snapshotter';
import { BackupStreamId, decodeBackupStream, decodeReparsePoint, toFileTime, type LayerEntry } from '../../../engine/src/platform/windows/layerTar';
import { SiloError } from '../../../engine/src/errors';
import { buildHcsFixture, skipWithoutCompiler as skip } from './hcsFixture';

let files: { lib: string; cleanup: () => void } | undefined;
let vm: { lib: string; cleanup: () => void } | undefined;
let root = '';
let privileges: () => number;
let openContexts: () => number;
let setNotAdmin: (v: number) => void;
let reparseRefusals: () => number;

before(() => {
  if (skip) return;
  files = buildHcsFixture('win32files');
  vm = buildHcsFixture('vmcompute');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'silo-backupwrite-'));
  const fx = koffi.load(files.lib);
  privileges = fx.func('int FixtureEnabledPrivileges(void)') as () => number;
  openContexts = () => Number(fx.func('long FixtureOpenContexts(void)')());
  setNotAdmin = fx.func('void FixtureSetNotAdmin(int v)') as (v: number) => void;
  reparseRefusals = () => Number(fx.func('long FixtureReparseRefusals(void)')());
});
after(() => {
  files?.cleanup();
  vm?.cleanup();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const T = 1700000000_000000000n;
const SD = Buffer.from('0100048014000000300000000000000000000000', 'hex');

function snapshotter(sub: string) {
  return new WindowsFilterSnapshotter({
    layersDir: path.join(root, sub, 'layers'),
    snapshotsDir: path.join(root, sub, 'snapshots'),
    tmpDir: path.join(root, sub, 'tmp'),
    layers: new VmcomputeLayers(vm!.lib),
    files: new BackupFileWriter(files!.lib, files!.lib, files!.lib),
  });
}


const base: LayerEntry[] = [
  { type: 'directory', path: 'Files', info: { attributes: 0x10, lastWriteTime: T } },
  { type: 'directory', path: 'Files/Windows', info: { attributes: 0x10, lastWriteTime: T + 1_000_000_000n } },
  { type: 'file', path: 'Files/Windows/a.txt', info: { attributes: 0x21, lastWriteTime: T, securityDescriptor: SD }, size: 6, body: Buffer.from('base a') },
  { type: 'alternateStream', path: 'Files/Windows/a.txt:Zone.Identifier', size: 3, body: Buffer.from('ads') },
  { type: 'hardLink', path: 'Files/Windows/a-link.txt', target: 'Files/Windows/a.txt' },
  { type: 'reparsePoint', path: 'Files/Docs', info: { attributes: 0x410, lastWriteTime: T }, target: 'C:\\Windows', mountPoint: true },
];

test('a base layer goes through BackupWrite with privileges, streams in order, times set last', { skip }, async () => {
  const snap = snapshotter('ok');
  const chain = 'sha256:' + 'cd'.repeat(32);
  await snap.applyLayer(chain, undefined, await layerTar(base));
  const dir = path.join(root, 'ok', 'layers', 'cd'.repeat(32));
  assert.equal(privileges(), 0b111, 'SeBackup, SeRestore and SeSecurity enabled');

  const streams = decodeBackupStream(fs.readFileSync(path.join(dir, 'Files/Windows/a.txt.backup')));
  assert.deepEqual(streams.map((s) => [s.id, s.name, s.data.toString('latin1')]), [
    [BackupStreamId.Security, '', SD.toString('latin1')],
    [BackupStreamId.Data, '', 'base a'],
    [BackupStreamId.AlternateData, ':Zone.Identifier:$DATA', 'ads'],
  ]);
  assert.equal(fs.readFileSync(path.join(dir, 'Files/Windows/a.txt.info'), 'utf8'), `attr=33 write=${toFileTime(T)} create=${toFileTime(T)}`);
  // The directory's own times are applied after its children were written.
  assert.equal(fs.readFileSync(path.join(dir, 'Files/Windows.info'), 'utf8'), `attr=16 write=${toFileTime(T + 1_000_000_000n)} create=${toFileTime(T + 1_000_000_000n)}`);
  const rp = decodeBackupStream(fs.readFileSync(path.join(dir, 'Files/Docs.backup')));
  assert.equal(rp[0].id, BackupStreamId.ReparseData);
  assert.deepEqual(decodeReparsePoint(rp[0].data), { target: 'C:\\Windows', mountPoint: true });
  assert.equal(fs.readlinkSync(path.join(dir, 'Files/Docs')), 'C:/Windows', 'the reparse point exists on disk');
  assert.equal(fs.statSync(path.join(dir, 'Files/Windows/a-link.txt')).ino, fs.statSync(path.join(dir, 'Files/Windows/a.txt')).ino);
  assert.equal(openContexts(), 0, 'every BackupWrite context released');
  assert.ok(fs.existsSync(path.join(dir, 'blank.vhdx')), 'ProcessBaseImage ran');
});

test('without the backup privileges the import fails with one line and leaves nothing', { skip }, async () => {
  setNotAdmin(1);
  try {
    const snap = snapshotter('denied');
    const chain = 'sha256:' + 'ef'.repeat(32);
    await assert.rejects(snap.applyLayer(chain, undefined, await layerTar(base)), (e: unknown) => {
      assert.ok(e instanceof SiloError);
      assert.equal(e.kind, 'PermissionDenied');
      assert.equal(e.line, 'Importing Windows layers needs SeBackupPrivilege: run the engine elevated, as Administrator');
      return true;
    });
    assert.equal(await snap.hasLayer(chain), false);
    assert.ok(!fs.existsSync(path.join(root, 'denied', 'layers', 'ef'.repeat(32))));
  } finally {
    setNotAdmin(0);
  }
});

const T2 = T + 5_000_000_000n;

test('the writer never opens through a reparse point, even one the tar check did not see', { skip }, async () => {
  // The layer tar reader refuses names under a reparse point it met earlier; this bypasses it, the
  // way an ordering the reader cannot see (or a parent layer's junction) would.
  const layer = path.join(root, 'direct');
  const outside = path.join(root, 'direct-outside');
  fs.mkdirSync(layer);
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'passwd'), 'secret');
  const w = new BackupFileWriter(files!.lib, files!.lib, files!.lib);
  await (await w.create(layer, { type: 'directory', path: 'Files', info: { attributes: 0x10, lastWriteTime: T } })).close();
  await (await w.create(layer, { type: 'file', path: 'Files/a.txt', info: { attributes: 0x20, lastWriteTime: T }, size: 1, body: Buffer.from('a') })).close();
  await (await w.create(layer, { type: 'reparsePoint', path: 'Files/escape', info: { attributes: 0x410, lastWriteTime: T2 }, target: outside, mountPoint: true })).close();
  assert.equal(fs.readlinkSync(path.join(layer, 'Files/escape')), outside, 'a junction to outside the layer');

  const refused = async (what: string, op: () => Promise<unknown>) => {
    const before = reparseRefusals();
    await assert.rejects(op, (e: unknown) => {
      assert.ok(e instanceof SiloError, what);
      assert.equal(e.kind, 'InvalidArgument', what);
      assert.match(e.line, /goes through a reparse point/, what);
      return true;
    });
    assert.ok(reparseRefusals() > before, `${what}: refused by the open itself (OBJ_DONT_REPARSE)`);
  };
  await refused('a file under it', () => w.create(layer, { type: 'file', path: 'Files/escape/evil.txt', info: { attributes: 0x20, lastWriteTime: T }, size: 1, body: Buffer.from('x') }));
  await refused('a folder under it', () => w.create(layer, { type: 'directory', path: 'Files/escape/sub', info: { attributes: 0x10, lastWriteTime: T } }));
  await refused('a hard link named under it', () => w.link(layer, 'Files/a.txt', layer, 'Files/escape/evil-link'));
  await refused('a hard link to a file under it', () => w.link(layer, 'Files/escape/passwd', layer, 'Files/stolen'));
  await refused('a whiteout under it', () => w.remove(layer, 'Files/escape/passwd'));
  await refused('a lookup under it', () => w.exists(layer, 'Files/escape/passwd'));
  await refused('folder times under it', () => w.setDirectoryTimes(layer, { path: 'Files/escape/sub', info: { attributes: 0x10, lastWriteTime: T } }));
  await refused('a kind under it', () => w.entryKind(layer, 'Files/escape/passwd'));
  await refused('a folder made under it', () => w.makeDirectory(layer, 'Files/escape/made'));

  assert.deepEqual(fs.readdirSync(outside), ['passwd'], 'nothing written outside the layer');
  assert.equal(fs.readFileSync(path.join(outside, 'passwd'), 'utf8'), 'secret');
  assert.equal(fs.statSync(path.join(outside, 'passwd')).nlink, 1, 'no link was made to it');
  // The reparse point itself is an ordinary entry: it can be found and removed without following it.
  assert.equal(await w.exists(layer, 'Files/escape'), true);
  assert.equal(await w.entryKind(layer, 'Files/escape'), 'reparsePoint');
  assert.equal(await w.remove(layer, 'Files/escape'), true);
  assert.ok(!fs.existsSync(path.join(layer, 'Files/escape')) && fs.existsSync(path.join(outside, 'passwd')));
  assert.equal(await w.exists(layer, 'Files/nothing/here'), false);
  assert.equal(openContexts(), 0);
});

test('a delta layer whose whiteout precedes the junction it goes through deletes nothing outside', { skip }, async () => {
  const snap = snapshotter('order');
  const outside = path.join(root, 'order-outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'victim'), 'keep me');
  const baseId = 'sha256:' + '12'.repeat(32);
  await snap.applyLayer(baseId, undefined, await layerTar(base));
  // The whiteout comes first, so when it is read no reparse point named Files/escape exists yet; it
  // is applied after ImportLayer, when the junction does.
  const evil: LayerEntry[] = [
    { type: 'directory', path: 'Files', info: { attributes: 0x10, lastWriteTime: T } },
    { type: 'whiteout', path: 'Files/escape/victim' },
    { type: 'reparsePoint', path: 'Files/escape', info: { attributes: 0x410, lastWriteTime: T }, target: outside, mountPoint: true },
  ];
  const id = 'sha256:' + '34'.repeat(32);
  const before = reparseRefusals();
  await assert.rejects(snap.applyLayer(id, baseId, await layerTar(evil)), (e: unknown) => e instanceof SiloError && e.kind === 'InvalidArgument' && /reparse point/.test(e.line));
  assert.ok(reparseRefusals() > before, 'the removal\'s own open refused the junction');
  assert.equal(fs.readFileSync(path.join(outside, 'victim'), 'utf8'), 'keep me');
  assert.equal(await snap.hasLayer(id), false);
  assert.ok(!fs.existsSync(path.join(root, 'order', 'layers', '34'.repeat(32))));
});

test('a utility VM is cloned from a parent layer: files linked, folders, junctions and the BCD copied with their streams', { skip }, async () => {
  const parent = path.join(root, 'clone-parent');
  const layer = path.join(root, 'clone-layer');
  const uvm = path.join(parent, 'UtilityVM/Files');
  fs.mkdirSync(path.join(uvm, 'EFI/Microsoft/Boot'), { recursive: true });
  fs.mkdirSync(layer);
  fs.writeFileSync(path.join(uvm, 'kernel.dll'), 'kernel');
  fs.writeFileSync(path.join(uvm, 'EFI/Microsoft/Boot/BCD'), 'boot config');
  fs.symlinkSync('C:/Windows', path.join(uvm, 'Docs'));
  const w = new BackupFileWriter(files!.lib, files!.lib, files!.lib);
  await w.makeDirectory(layer, 'UtilityVM');
  const copied: string[] = [];
  await w.cloneTree(parent, layer, 'UtilityVM/Files', (p) => {
    copied.push(p);
    return p.endsWith('/BCD');
  });
  const at = (p: string) => path.join(layer, 'UtilityVM/Files', p);
  assert.equal(fs.statSync(at('kernel.dll')).ino, fs.statSync(path.join(uvm, 'kernel.dll')).ino, 'an unchanged file is a hard link');
  assert.notEqual(fs.statSync(at('EFI/Microsoft/Boot/BCD')).ino, fs.statSync(path.join(uvm, 'EFI/Microsoft/Boot/BCD')).ino, 'the BCD is a copy');
  assert.deepEqual(decodeBackupStream(fs.readFileSync(at('EFI/Microsoft/Boot/BCD') + '.backup')).map((s) => [s.id, s.data.toString()]), [[BackupStreamId.Data, 'boot config']], 'copied through BackupRead and BackupWrite');
  assert.equal(fs.readlinkSync(at('Docs')), 'C:/Windows', 'the junction is copied as a reparse point, not followed');
  assert.ok(fs.lstatSync(at('EFI/Microsoft')).isDirectory() && fs.existsSync(at('EFI/Microsoft.info')), 'folders are made, their times set');
  assert.deepEqual(copied.sort(), ['UtilityVM/Files/EFI/Microsoft/Boot/BCD', 'UtilityVM/Files/kernel.dll'], 'asked only about files');
  assert.equal(openContexts(), 0, 'every BackupRead and BackupWrite context released');

  // A source reached through a reparse point is refused before anything is cloned.
  fs.mkdirSync(path.join(root, 'clone-evil'));
  fs.symlinkSync(parent, path.join(root, 'clone-evil', 'UtilityVM'));
  await assert.rejects(w.cloneTree(path.join(root, 'clone-evil'), layer, 'UtilityVM/Files', () => false), (e: unknown) => e instanceof SiloError && e.kind === 'InvalidArgument');
});

async function layerTar(entries: LayerEntry[]): Promise<Readable> {
  return Readable.from(await windowsLayerTar(entries));
}
