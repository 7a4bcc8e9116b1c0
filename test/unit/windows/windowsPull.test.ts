// A Windows image pulled from a registry into the windowsfilter snapshotter (vmcompute fixture and the
// fixture file writer): each layer's progress ends with where its time went — waiting for the
// registry, reading the tar, writing files, ImportLayer, base-layer processing — and `silo pull`
// prints it on the layer's "Pull complete" line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { layerTimings } from '../../../engine/src/cli/registryCommands';
import { normalizeReference } from '../../../engine/src/image/reference';
import type { LayerEntry } from '../../../engine/src/platform/windows/layerTar';
import { windowsLayerTar as layerTar } from './fixtureLayerTar';
import { VmcomputeLayers } from '../../../engine/src/platform/windows/windowsfilter/layerApi';
import { WindowsFilterSnapshotter } from '../../../engine/src/platform/windows/windowsfilter/snapshotter';
import { RegistryClient } from '../../../engine/src/registry/client';
import { Puller, type LayerProgress } from '../../../engine/src/registry/pull';
import { ContentStore } from '../../../engine/src/store/content';
import { FixtureLayerFileWriter } from '../../fixtures/hcs/fixtureLayerFileWriter';
import { putManifest, sha, startFakeRegistry, type FakeRegistry } from '../../fixtures/fixtureFakeRegistry';
import { buildHcsFixture, skipWithoutCompiler as skip } from './hcsFixture';

let vm: { lib: string; cleanup: () => void } | undefined;
let reg: FakeRegistry | undefined;
let root = '';

before(async () => {
  if (skip) return;
  vm = buildHcsFixture('vmcompute');
  reg = await startFakeRegistry();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'silo-winpull-'));
});
after(async () => {
  await reg?.close();
  vm?.cleanup();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const T = 1700000000_000000000n;
const dir = (p: string): LayerEntry => ({ type: 'directory', path: p, info: { attributes: 0x10, lastWriteTime: T } });
const file = (p: string, data: Buffer): LayerEntry => ({ type: 'file', path: p, info: { attributes: 0x20, lastWriteTime: T }, size: data.length, body: data });


test('a pulled Windows layer reports per-stage timings, and the pull display shows them', { skip }, async () => {
  const base = await layerTar([dir('Files'), dir('Files/Windows'), file('Files/Windows/a.dll', Buffer.alloc(64 * 1024, 1)), dir('Hives'), file('Hives/System_Delta', Buffer.from('hive'))]);
  const delta = await layerTar([dir('Files'), file('Files/app.exe', Buffer.alloc(32 * 1024, 2))]);
  const blobs = [zlib.gzipSync(base, { level: 0 }), zlib.gzipSync(delta, { level: 0 })];
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'windows', 'os.version': '10.0.20348.1', rootfs: { type: 'layers', diff_ids: [sha(base), sha(delta)] }, config: {} }));
  for (const b of [...blobs, config]) reg!.blobs.set(sha(b), b);
  putManifest(reg!, 'win/app', '1', Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: blobs.map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(b), size: b.length })),
  })));
  // The base layer's blob trickles: 8 pieces, 40 ms apart, so its network time is visible.
  const slow = sha(blobs[0]);
  reg!.hook = (req, res) => {
    if (!req.url?.endsWith(slow)) return false;
    const b = blobs[0];
    res.writeHead(200, { 'content-length': b.length });
    const piece = Math.ceil(b.length / 8);
    let o = 0;
    const next = () => {
      if (o >= b.length) return void res.end();
      res.write(b.subarray(o, (o += piece)));
      setTimeout(next, 40);
    };
    next();
    return true;
  };

  const snapshotter = new WindowsFilterSnapshotter({
    layersDir: path.join(root, 'layers'), snapshotsDir: path.join(root, 'snapshots'), tmpDir: path.join(root, 'tmp'),
    layers: new VmcomputeLayers(vm!.lib), files: new FixtureLayerFileWriter(),
  });
  const puller = new Puller(new ContentStore(path.join(root, 'store')), snapshotter);
  const progress: LayerProgress[] = [];
  const ref = normalizeReference(`${reg!.domain}/win/app:1`);
  await puller.pull(new RegistryClient(ref.domain, { backoffMs: 10, idleTimeoutMs: 5000 }), ref, {
    platform: { os: 'windows', architecture: 'amd64' }, hostOs: 'windows', onProgress: (p) => progress.push(p),
  });

  const done = (blob: Buffer) => progress.find((p) => p.phase === 'complete' && sha(blob).slice(7, 19) === p.id);
  const b = done(blobs[0])?.timings;
  const d = done(blobs[1])?.timings;
  assert.ok(b && d, JSON.stringify(progress.filter((p) => p.phase === 'complete')));
  assert.ok(b.networkMs >= 200, `the trickled base layer waited on the network: ${JSON.stringify(b)}`);
  assert.ok((b.processMs ?? 0) > 0 && (b.writeMs ?? 0) > 0, `base layer: files written, then processed: ${JSON.stringify(b)}`);
  assert.ok((d.importMs ?? 0) > 0 && d.processMs === 0, `delta layer: ImportLayer, no base processing: ${JSON.stringify(d)}`);
  for (const t of [b, d]) {
    assert.deepEqual(Object.keys(t).sort(), ['decompressMs', 'importMs', 'networkMs', 'processMs', 'totalMs', 'writeMs']);
    for (const v of Object.values(t)) assert.ok(Number.isInteger(v) && v >= 0);
  }
  assert.ok(progress.every((p) => p.phase === 'complete' || p.timings === undefined), 'only the complete event carries timings');

  // `silo pull`'s line for such a layer.
  assert.match(`x: Pull complete${layerTimings(b)}`, /^x: Pull complete \(network \d+(ms|\.\ds), decompress \d+(ms|\.\ds), write \d+(ms|\.\ds)(, import [^,]+)?, process [^)]+\)$/);
  assert.equal(layerTimings({ networkMs: 1234, decompressMs: 56, writeMs: 2100, importMs: 0, processMs: 35000, totalMs: 38000 }), ' (network 1.2s, decompress 56ms, write 2.1s, process 35.0s)');
  assert.equal(layerTimings(undefined), '', 'a Linux layer line stays as docker prints it');
});
