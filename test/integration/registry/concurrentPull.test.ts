// Two pulls of the same image at once, in one engine: every layer is downloaded once (the registry's
// access log counts the GETs) and unpacked once, and both pulls end with the image.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import type { ExtractLimits } from '../../../engine/src/layers/extract';
import type { Snapshotter } from '../../../engine/src/layers/snapshotter';
import { SiloFixture, hasTool } from '../../fixtures/fixtureSilo';
import { fixtureDistribution } from '../../fixtures/fixtureDistribution';
import { hasRegistry, startRegistry, type FixtureRegistry } from '../../fixtures/fixtureRegistry';
import { fixtureFiles, pushFixtureImage } from '../../fixtures/fixtureRegistryImage';

const skip = !hasRegistry || process.getuid?.() !== 0 ? 'needs root and docker-registry' : false;
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Layers of a few MB, so that both pulls are surely in flight together. */
const LAYERS = [fixtureFiles('a', 4, 1 << 20), fixtureFiles('b', 4, 1 << 20), fixtureFiles('c', 4, 1 << 20)];

async function registryWithImage(repo: string): Promise<{ reg: FixtureRegistry; blobs: string[] }> {
  const reg = await startRegistry({ accessLog: true });
  cleanups.push(reg.dispose);
  const pushed = await pushFixtureImage(reg.domain, repo, '1', [{ layers: LAYERS }]);
  return { reg, blobs: pushed.images[0].blobs };
}

async function blobGets(reg: FixtureRegistry, blob: string): Promise<number> {
  return (await reg.requests()).filter((r) => r.startsWith('GET ') && r.endsWith(`/blobs/${blob}`)).length;
}

/** The real snapshotter, counting how many times each layer's files were unpacked (a test fixture). */
function countingSnapshotter(inner: Snapshotter): { snapshotter: Snapshotter; unpacks: () => number } {
  let n = 0;
  const counted = Object.create(inner) as Snapshotter;
  counted.applyLayer = (chainID: string, parent: string | undefined, tar: Readable, limits?: ExtractLimits) => {
    n++;
    return inner.applyLayer(chainID, parent, tar, limits);
  };
  if (inner.stageLayer) {
    counted.stageLayer = (tar: Readable, limits?: ExtractLimits) => {
      n++;
      return inner.stageLayer!(tar, limits);
    };
  }
  if (inner.stageBlob) {
    counted.stageBlob = (blob: Readable, limits?: ExtractLimits) => {
      n++;
      return inner.stageBlob!(blob, limits);
    };
  }
  return { snapshotter: counted, unpacks: () => n };
}

test('two concurrent pulls in one engine download and unpack each layer once', { skip }, async () => {
  const { reg, blobs } = await registryWithImage('team/app');
  const e = fixtureDistribution();
  cleanups.push(e.cleanup);
  const counting = countingSnapshotter(e.snapshotter);
  // The same service with the counting snapshotter in front of the real one.
  const { DistributionService } = await import('../../../engine/src/service/distribution');
  const distribution = new DistributionService({
    root: e.root, content: e.content, images: e.images, imageService: e.service, snapshotter: counting.snapshotter, os: 'linux',
    credentials: e.distribution.credentials, client: { backoffMs: 20, idleTimeoutMs: 5000 },
  });
  const name = `${reg.domain}/team/app:1`;
  const [a, b] = await Promise.all([distribution.pull(name), distribution.pull(name)]);
  assert.equal(a.id, b.id);
  for (const blob of blobs) assert.equal(await blobGets(reg, blob), 1, `GETs of ${blob}`);
  assert.equal(counting.unpacks(), LAYERS.length);
  const rec = await e.images.resolve(name);
  for (const l of rec.layers) assert.ok(await e.snapshotter.hasLayer(l.chainID));
  const { layers } = await e.snapshotter.list();
  assert.equal(layers.length, LAYERS.length, 'no layer twice, nothing left staged');
});

test('two silo pull commands against one engine download each layer once', { skip: skip || (!hasTool('crun') && 'needs crun') }, async () => {
  const { reg, blobs } = await registryWithImage('team/cli');
  const silo = new SiloFixture();
  cleanups.push(() => silo.dispose());
  silo.ok(['images']); // the engine is up before both CLIs race
  const name = `${reg.domain}/team/cli:1`;
  const pull = () => new Promise<{ code: number; out: string }>((resolve) => {
    const p = silo.spawn(['pull', name]);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
  const [x, y] = await Promise.all([pull(), pull()]);
  assert.equal(x.code, 0, x.out);
  assert.equal(y.code, 0, y.out);
  for (const blob of blobs) assert.equal(await blobGets(reg, blob), 1, `GETs of ${blob}`);
  assert.match(silo.ok(['images']), /team\/cli\s+1/);
  const [inspected] = JSON.parse(silo.ok(['inspect', name]));
  assert.equal(inspected.RootFS.Layers.length, LAYERS.length);
});
