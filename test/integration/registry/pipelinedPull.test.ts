// The pull pipeline: layers download and unpack at the same time, each into its own staging dir,
// and a layer becomes visible only after its blob and diff ID are verified and its parent committed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { fixtureDistribution, type FixtureDistribution } from '../../fixtures/fixtureDistribution';
import { putManifest, sha, startFakeRegistry, type FakeRegistry } from '../../fixtures/fixtureFakeRegistry';
import { fixtureFiles } from '../../fixtures/fixtureRegistryImage';
import { fixtureTar } from '../../fixtures/fixtureTar';
import type { Snapshotter } from '../../../engine/src/layers/snapshotter';

const skip = process.getuid?.() !== 0 ? 'needs root (overlay snapshotter)' : false;
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** A 3-layer image in the fake registry; `lie` makes the config's diff ID of that layer wrong. */
async function image(reg: FakeRegistry, repo: string, opts: { lie?: number } = {}): Promise<{ blobs: string[] }> {
  const layers = [];
  for (let i = 0; i < 3; i++) {
    const tar = await fixtureTar(fixtureFiles(`l${i}`, 3, 256 * 1024));
    layers.push({ blob: zlib.gzipSync(tar, { level: 1 }), diffID: i === opts.lie ? sha('not this tar') : sha(tar) });
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffID) }, config: {} }));
  for (const b of [...layers.map((l) => l.blob), config]) reg.blobs.set(sha(b), b);
  putManifest(reg, repo, '1', Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(l.blob), size: l.blob.length })),
  })));
  return { blobs: layers.map((l) => sha(l.blob)) };
}

async function setup(): Promise<{ reg: FakeRegistry; e: FixtureDistribution }> {
  const reg = await startFakeRegistry();
  cleanups.push(reg.close);
  const e = fixtureDistribution({ idleTimeoutMs: 5000, backoffMs: 10 });
  cleanups.push(e.cleanup);
  return { reg, e };
}

/** Everything in the layers dir: committed layers and any staging dir left behind. */
function layerDirs(e: FixtureDistribution): string[] {
  try {
    return readdirSync(path.join(e.root, 'layers'));
  } catch {
    return [];
  }
}

test('all layers are in flight at once: the top layers download while the bottom one is held back', { skip }, async () => {
  const { reg, e } = await setup();
  const { blobs } = await image(reg, 'p/app');
  // Hold the bottom layer's reply until both other layers have been asked for.
  let release!: () => void;
  const othersAsked = new Promise<void>((r) => (release = r));
  const asked = new Set<string>();
  reg.hook = (req, res) => {
    const blob = blobs.find((b) => req.url?.endsWith(b));
    if (!blob) return false;
    asked.add(blob);
    if (asked.has(blobs[1]) && asked.has(blobs[2])) release();
    if (blob !== blobs[0]) return false;
    void othersAsked.then(() => res.writeHead(200, { 'content-length': reg.blobs.get(blob)!.length }).end(reg.blobs.get(blob)));
    return true;
  };
  const r = await e.distribution.pull(`${reg.domain}/p/app:1`);
  const rec = await e.images.resolve(`${reg.domain}/p/app:1`);
  assert.equal(rec.id, r.id);
  for (const l of rec.layers) assert.ok(await e.snapshotter.hasLayer(l.chainID));
  assert.equal(layerDirs(e).length, 3, 'three committed layers, no staging dir left');
});

test('a bottom layer with a wrong diff ID: nothing is committed, not even the verified layers above it', { skip }, async () => {
  const { reg, e } = await setup();
  await image(reg, 'p/bad', { lie: 0 });
  await assert.rejects(e.distribution.pull(`${reg.domain}/p/bad:1`), (err: Error & { kind?: string }) => {
    assert.equal(err.kind, 'InvalidArgument');
    assert.match(err.message, /diff ID/);
    return true;
  });
  assert.deepEqual(layerDirs(e), [], 'no layer and no staging dir');
  assert.deepEqual(await e.service.list(), []);
});

test('a middle layer whose bytes are not its digest: only the verified bottom layer stays, nothing staged is left', { skip }, async () => {
  const { reg, e } = await setup();
  const { blobs } = await image(reg, 'p/corrupt');
  const good = reg.blobs.get(blobs[1])!;
  const bad = Buffer.from(good);
  bad[bad.length - 20] ^= 0xff; // in the gzip trailer's neighbourhood: still inflates, wrong digest
  reg.hook = (req, res) => {
    if (!req.url?.endsWith(blobs[1])) return false;
    res.writeHead(200, { 'content-length': bad.length }).end(bad);
    return true;
  };
  await assert.rejects(e.distribution.pull(`${reg.domain}/p/corrupt:1`), (err: Error & { kind?: string }) => {
    assert.equal(err.kind, 'InvalidArgument');
    return true;
  });
  const dirs = layerDirs(e);
  assert.ok(dirs.length <= 1 && dirs.every((d) => /^[0-9a-f]{64}$/.test(d)), `left: ${dirs.join(', ')}`);
  assert.ok(!(await e.content.has(blobs[1])), 'the corrupt blob is not in the store');
  assert.deepEqual(await e.service.list(), []);
});

test('a snapshotter without stageLayer or stageBlob gets applyLayer in chain order, each after its parent', { skip }, async () => {
  const { reg, e } = await setup();
  await image(reg, 'p/ordered');
  const order: Array<{ chainID: string; parent?: string; parentPresent: boolean }> = [];
  const inner = e.snapshotter;
  const plain = Object.create(inner) as Snapshotter;
  plain.stageLayer = undefined;
  plain.stageBlob = undefined;
  plain.applyLayer = async (chainID, parent, tar, limits) => {
    order.push({ chainID, parent, parentPresent: parent === undefined || (await inner.hasLayer(parent)) });
    return inner.applyLayer(chainID, parent, tar, limits);
  };
  const { DistributionService } = await import('../../../engine/src/service/distribution');
  const distribution = new DistributionService({
    root: e.root, content: e.content, images: e.images, imageService: e.service, snapshotter: plain, os: 'linux',
    credentials: e.distribution.credentials, client: { backoffMs: 10, idleTimeoutMs: 5000 },
  });
  await distribution.pull(`${reg.domain}/p/ordered:1`);
  const rec = await e.images.resolve(`${reg.domain}/p/ordered:1`);
  assert.deepEqual(order.map((o) => o.chainID), rec.layers.map((l) => l.chainID));
  assert.ok(order.every((o) => o.parentPresent));
});

test('a snapshotter with stageLayer but no stageBlob stages from the tar the engine inflates, with the same checks', { skip }, async () => {
  const { reg, e } = await setup();
  await image(reg, 'p/tar', {});
  await image(reg, 'p/tarbad', { lie: 1 });
  const staged: string[] = [];
  const tarOnly = Object.create(e.snapshotter) as Snapshotter;
  tarOnly.stageBlob = undefined;
  tarOnly.stageLayer = async (tar, limits) => {
    const s = await e.snapshotter.stageLayer!(tar, limits);
    staged.push(`${s.size}`);
    return s;
  };
  const { DistributionService } = await import('../../../engine/src/service/distribution');
  const distribution = new DistributionService({
    root: e.root, content: e.content, images: e.images, imageService: e.service, snapshotter: tarOnly, os: 'linux',
    credentials: e.distribution.credentials, client: { backoffMs: 10, idleTimeoutMs: 5000 },
  });
  await assert.rejects(distribution.pull(`${reg.domain}/p/tarbad:1`), /diff ID/);
  assert.equal(layerDirs(e).filter((d) => !/^[0-9a-f]{64}$/.test(d)).length, 0, 'no staging dir left');
  await distribution.pull(`${reg.domain}/p/tar:1`);
  const rec = await e.images.resolve(`${reg.domain}/p/tar:1`);
  for (const l of rec.layers) assert.ok(await e.snapshotter.hasLayer(l.chainID));
  assert.ok(staged.length >= 3, 'every layer went through stageLayer');
});
