// The Windows composition root, built on Linux with the C fixtures in place of the DLLs: the pieces
// are the Windows ones, facts come from the host, isolation is checked against its features, and the
// snapshotter it wires imports a layer through vmcompute.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { windowsPlatform } from '../../../engine/src/platform/windows';
import type { WindowsHostInfo } from '../../../engine/src/platform/windows/host';
import { WindowsLayerTarWriter } from '../../../engine/src/platform/windows/layerTar';
import { SiloError } from '../../../engine/src/errors';
import { FixtureLayerFileWriter } from '../../fixtures/hcs/fixtureLayerFileWriter';
import { HcsRuntime } from '../../../engine/src/platform/windows/runtime';
import { SupervisedRuntime } from '../../../engine/src/platform/windows/supervisor/client';
import { buildHcsFixture, skipWithoutCompiler as skip } from './hcsFixture';

let vm: { lib: string; cleanup: () => void } | undefined;
let root = '';
before(() => {
  if (skip) return;
  vm = buildHcsFixture('vmcompute');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'silo-winplatform-'));
});
after(() => {
  vm?.cleanup();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const host = (hyperv: boolean): WindowsHostInfo => ({ version: '10.0.20348.2655', build: 20348, revision: 2655, containers: true, hyperv, cpuCount: 4 });

test('windowsPlatform composes windowsfilter, HCS and the host facts', { skip }, async () => {
  const p = windowsPlatform(root, { host: () => host(false), libraries: { vmcompute: vm!.lib }, files: new FixtureLayerFileWriter() });
  assert.equal(p.os, 'windows');
  assert.equal(p.snapshotter.name, 'windowsfilter');
  assert.equal(p.runtime.name, 'hcs');
  assert.deepEqual(p.isolations, ['process']);
  assert.deepEqual(p.facts(), { osVersion: '10.0.20348.2655', kernel: '10.0.20348.2655', storageDriver: 'windowsfilter', runtime: 'hcs', isolations: ['process'] });
  p.checkRunnable!('windows', 'process');
  assert.throws(() => p.checkRunnable!('windows', 'hyperv'), (e: SiloError) => e.kind === 'InvalidArgument' && /Hyper-V/.test(e.line));
  assert.throws(() => p.checkRunnable!('linux', 'process'), (e: SiloError) => e.kind === 'NotImplemented');
  assert.deepEqual(windowsPlatform(root, { host: () => host(true) }).isolations, ['process', 'hyperv']);

  const w = new WindowsLayerTarWriter();
  const chunks: Buffer[] = [];
  w.stream.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((r) => w.stream.on('end', () => r()));
  await w.add({ type: 'directory', path: 'Files', info: { attributes: 0x10, lastWriteTime: 0n } });
  await w.add({ type: 'file', path: 'Files/hello.txt', info: { attributes: 0x20, lastWriteTime: 0n }, size: 2, body: Buffer.from('hi') });
  w.finalize();
  await ended;
  const chain = 'sha256:' + 'ab'.repeat(32);
  const r = await p.snapshotter.applyLayer(chain, undefined, Readable.from(Buffer.concat(chunks)));
  assert.equal(r.size, 2);
  assert.equal(fs.readFileSync(path.join(root, 'layers', 'ab'.repeat(32), 'Files', 'hello.txt'), 'utf8'), 'hi');
  assert.ok(fs.existsSync(path.join(root, 'layers', 'ab'.repeat(32), 'blank.vhdx')));
});

test('the HCS handles go to the supervisor when its bundle is there, else stay in the engine', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'silo-winplatform-sup-'));
  try {
    const entry = path.join(dir, 'silo-hcs-supervisor.js');
    assert.ok(windowsPlatform(dir, { host: () => host(false), supervisorEntry: entry }).runtime instanceof HcsRuntime);
    fs.writeFileSync(entry, '');
    assert.ok(windowsPlatform(dir, { host: () => host(false), supervisorEntry: entry }).runtime instanceof SupervisedRuntime);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
