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
import koffi from 'koffi';
import { BackupFileWriter } from '../../../engine/src/platform/windows/windowsfilter/backupFileWriter';
import { VmcomputeLayers } from '../../../engine/src/platform/windows/windowsfilter/layerApi';
import { WindowsFilterSnapshotter } from '../../../engine/src/platform/windows/windowsfilter/snapshotter';
import { BackupStreamId, decodeBackupStream, decodeReparsePoint, toFileTime, WindowsLayerTarWriter, type LayerEntry } from '../../../engine/src/platform/windows/layerTar';
import { SiloError } from '../../../engine/src/errors';
import { buildHcsFixture, skipWithoutCompiler as skip } from './hcsFixture';

let files: { lib: string; cleanup: () => void } | undefined;
let vm: { lib: string; cleanup: () => void } | undefined;
let root = '';
let privileges: () => number;
let openContexts: () => number;
let setNotAdmin: (v: number) => void;

before(() => {
  if (skip) return;
  files = buildHcsFixture('win32files');
  vm = buildHcsFixture('vmcompute');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'silo-backupwrite-'));
  const fx = koffi.load(files.lib);
  privileges = fx.func('int FixtureEnabledPrivileges(void)') as () => number;
  openContexts = () => Number(fx.func('long FixtureOpenContexts(void)')());
  setNotAdmin = fx.func('void FixtureSetNotAdmin(int v)') as (v: number) => void;
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
    files: new BackupFileWriter(files!.lib, files!.lib),
  });
}

async function layerTar(entries: LayerEntry[]): Promise<Readable> {
  const w = new WindowsLayerTarWriter();
  const chunks: Buffer[] = [];
  w.stream.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((r) => w.stream.on('end', () => r()));
  for (const e of entries) await w.add(e);
  w.finalize();
  await ended;
  return Readable.from(Buffer.concat(chunks));
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
