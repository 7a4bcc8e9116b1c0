// The image use cases end to end over a real data root: import a busybox rootfs, list, inspect, tag,
// history, rmi, save -> load round trip, a failed load, prune.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fixtureBusyboxRootfs, fixtureImageEngine, BUSYBOX_APPLETS } from '../../fixtures/fixtureImageService';
import { fixtureTar } from '../../fixtures/fixtureTar';

async function collect(fn: (out: PassThrough) => Promise<void>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await fn(out);
  return Buffer.concat(chunks);
}

test('import a busybox rootfs, then list, inspect, tag, history and rmi it', async (t) => {
  const e = fixtureImageEngine();
  t.after(() => e.cleanup());
  const rootfs = await fixtureBusyboxRootfs();
  const { id } = await e.service.importRootfs(Readable.from([rootfs]), { ref: 'busybox', changes: ['CMD ["sh"]', 'ENV A=1'] });
  assert.match(id, /^sha256:[a-f0-9]{64}$/);

  const rows = await e.service.list();
  assert.equal(rows.length, 1);
  assert.equal(rows[0].repository, 'busybox');
  assert.equal(rows[0].tag, 'latest');
  assert.equal(rows[0].id, id);
  assert.equal(rows[0].os, 'linux');
  assert.ok(rows[0].size >= 1_900_000, `size ${rows[0].size} counts the busybox binary`);

  const ins = await e.service.inspect('busybox');
  assert.equal(ins.Id, id);
  assert.deepEqual(ins.RepoTags, ['busybox:latest']);
  assert.equal(ins.Comment, 'Imported from -');
  assert.deepEqual(ins.Config?.Cmd, ['sh']);
  assert.deepEqual(ins.Config?.Env, ['A=1']);
  assert.equal(ins.RootFS.Layers.length, 1);
  assert.equal(ins.Size, rows[0].size);
  assert.equal(ins.GraphDriver.Name, e.snapshotter.name);

  // The layer is stored gzip-compressed and unpacked under its chain ID.
  const rec = await e.images.resolve(id);
  assert.equal(rec.layers[0].blob.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.ok(rec.layers[0].blob.size < rootfs.length);
  assert.equal(await e.snapshotter.hasLayer(rec.layers[0].chainID), true);
  const unpacked = await fs.readdir(path.join(e.root, 'layers')).catch(() => []);
  assert.ok(unpacked.length >= 1);

  await e.service.tag('busybox', 'localhost:5000/tools/bb:v1');
  assert.deepEqual((await e.service.inspect(id.slice(7, 19))).RepoTags, ['busybox:latest', 'localhost:5000/tools/bb:v1']);
  assert.deepEqual((await e.service.list()).map((r) => `${r.repository}:${r.tag}`), ['busybox:latest', 'localhost:5000/tools/bb:v1']);
  await assert.rejects(e.service.tag('busybox', `x@sha256:${'a'.repeat(64)}`), { kind: 'InvalidArgument' });
  await assert.rejects(e.service.inspect('nosuch'), { kind: 'NotFound', message: 'No such image: nosuch' });

  const hist = await e.service.history('busybox');
  assert.equal(hist.length, 1);
  assert.equal(hist[0].Id, id);
  assert.equal(hist[0].Comment, 'Imported from -');
  assert.equal(hist[0].Size, rows[0].size);
  assert.deepEqual(hist[0].Tags, ['busybox:latest', 'localhost:5000/tools/bb:v1']);

  // rmi: untag one name, then by ID with a container using it, then for real.
  assert.deepEqual(await e.service.remove('localhost:5000/tools/bb:v1'), [{ Untagged: 'localhost:5000/tools/bb:v1' }]);
  e.inUse.add(id);
  await assert.rejects(e.service.remove('busybox'), (err: Error & { kind?: string }) => err.kind === 'FailedPrecondition' && /must force/.test(err.message));
  assert.deepEqual(await e.service.remove('busybox', { force: true }), [{ Untagged: 'busybox:latest' }]);
  assert.deepEqual((await e.service.list({ dangling: true })).map((r) => r.repository), ['<none>']);
  e.inUse.delete(id);
  const removed = await e.service.remove(id);
  assert.deepEqual(removed[0], { Deleted: id });
  assert.deepEqual(await e.service.list(), []);
  assert.deepEqual(await e.content.list(), [], 'every blob of the image is gone');
  assert.equal(await e.snapshotter.hasLayer(rec.layers[0].chainID), false, 'its layer is gone');
});

test('save -> load round trip into another data root keeps ID, names, config and files', async (t) => {
  const a = fixtureImageEngine();
  const b = fixtureImageEngine();
  t.after(async () => { await a.cleanup(); await b.cleanup(); });
  const { id } = await a.service.importRootfs(Readable.from([await fixtureBusyboxRootfs()]), { ref: 'busybox:1', changes: ['CMD ["sh"]'] });
  await a.service.tag(id, 'busybox:2');
  const tar = await collect((out) => a.service.save(['busybox'], out));

  const progress: string[] = [];
  const loaded = await b.service.load(Readable.from([tar]), (p) => progress.push(p.phase));
  assert.deepEqual(loaded, [{ id, names: ['busybox:1', 'busybox:2'] }]);
  assert.ok(progress.includes('read') && progress.includes('unpack') && progress.includes('loaded'));
  const [ia, ib] = [await a.service.inspect(id), await b.service.inspect(id)];
  assert.deepEqual({ ...ib, Metadata: null }, { ...ia, Metadata: null });
  const recB = await b.images.resolve('busybox:2');
  assert.equal(recB.manifest.digest, (await a.images.resolve(id)).manifest.digest);
  assert.equal(await b.snapshotter.hasLayer(recB.layers[0].chainID), true);

  // Loading the same archive again changes nothing and fails nothing.
  assert.deepEqual(await b.service.load(Readable.from([tar])), loaded);
  assert.equal((await b.service.list()).length, 2);
});

test('a failed load leaves no image record, name, blob or ingest', async (t) => {
  const e = fixtureImageEngine();
  t.after(() => e.cleanup());
  const good = await fixtureTar([{ name: 'f', data: 'x' }]);
  const config = JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] } });
  const archive = await fixtureTar([
    { name: 'c.json', data: config },
    { name: 'l.tar', data: good },
    { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: ['bad:latest'], Layers: ['l.tar'] }]) },
  ]);
  await assert.rejects(e.service.load(Readable.from([archive])), { kind: 'InvalidArgument' });
  // A layer the extractor refuses (an entry escaping the root) fails after the archive itself checked out.
  const hostile = await fixtureTar([{ name: '../../escape', data: 'x' }]);
  const { createHash } = await import('node:crypto');
  const diff = `sha256:${createHash('sha256').update(hostile).digest('hex')}`;
  const archive2 = await fixtureTar([
    { name: 'c.json', data: JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [diff] } }) },
    { name: 'l.tar', data: hostile },
    { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: ['bad:latest'], Layers: ['l.tar'] }]) },
  ]);
  await assert.rejects(e.service.load(Readable.from([archive2])), { kind: 'InvalidArgument' });
  assert.deepEqual(await e.service.list(), []);
  assert.deepEqual(await e.images.refs(), {});
  assert.deepEqual(await e.content.list(), []);
  assert.deepEqual(await e.content.staleIngests(), []);
  assert.deepEqual((await e.snapshotter.list()).layers, []);
});

test('prune frees unreferenced blobs, layers and stale ingests, and keeps what is used', async (t) => {
  const e = fixtureImageEngine();
  t.after(() => e.cleanup());
  const { id } = await e.service.importRootfs(Readable.from([await fixtureBusyboxRootfs()]), { ref: 'keep' });
  const orphan = await e.content.ingest(Buffer.from('orphan blob'));
  const w = await e.content.openWriter('interrupted-pull');
  await w.write(Buffer.from('partial'));
  await w.close();
  const other = await e.service.importRootfs(Readable.from([await fixtureTar([{ name: 'only', data: 'x' }])]), {});
  const otherRec = await e.images.resolve(other.id);
  // Forget the second image's record without deleting anything: its blobs and layer become garbage.
  await e.images.delete(other.id);

  const report = await e.service.prune(new Set());
  assert.ok(report.blobs.includes(orphan.digest));
  assert.ok(report.blobs.includes(otherRec.layers[0].blob.digest));
  assert.deepEqual(report.layers, [otherRec.layers[0].chainID]);
  assert.equal(report.ingests, 1);
  assert.ok(report.bytes > 0);
  // The named image still works.
  const rec = await e.images.resolve('keep');
  assert.equal(rec.id, id);
  for (const d of [rec.manifest.digest, rec.config.digest, rec.layers[0].blob.digest]) assert.equal(await e.content.has(d), true);
  assert.equal(await e.snapshotter.hasLayer(rec.layers[0].chainID), true);
  const again = await e.service.prune(new Set());
  assert.deepEqual(again, { blobs: [], layers: [], ingests: 0, bytes: 0 });
});

test('busybox applets are in the unpacked layer', { skip: BUSYBOX_APPLETS.length === 0 }, async (t) => {
  const e = fixtureImageEngine();
  t.after(() => e.cleanup());
  await e.service.importRootfs(Readable.from([await fixtureBusyboxRootfs()]), { ref: 'bb' });
  const layer = await e.service.layerTar('bb', 0);
  const tarStream = await import('tar-stream');
  const ex = tarStream.extract();
  const names: string[] = [];
  ex.on('entry', (h, s, next) => { names.push(h.name); s.resume(); s.on('end', next); });
  layer.pipe(ex);
  await new Promise<void>((r) => ex.on('finish', () => r()));
  for (const a of BUSYBOX_APPLETS) assert.ok(names.includes(`bin/${a}`), a);
});
