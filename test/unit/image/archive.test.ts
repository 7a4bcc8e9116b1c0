import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import * as tarStream from 'tar-stream';
import { readImageArchive, writeImageArchive } from '../../../engine/src/image/archive';
import { sha256Digest } from '../../../engine/src/image/digest';
import { normalizeReference } from '../../../engine/src/image/reference';
import { ContentStore } from '../../../engine/src/store/content';
import { fixtureTar, type FixtureEntry } from '../../fixtures/fixtureTar';

const hex = (d: string) => d.slice(7);

async function newStore() {
  return new ContentStore(mkdtempSync(path.join(os.tmpdir(), 'silo-archive-')));
}

async function visible(store: ContentStore) {
  return { blobs: (await store.list()).length, ingests: (await fs.readdir(store.ingestDir).catch(() => [])).length };
}

/** A two-layer image: tars, gzip blobs, config, OCI manifest. */
async function image() {
  const tar1 = await fixtureTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/hostname', data: 'one\n' }]);
  const tar2 = await fixtureTar([{ name: 'hello.txt', data: 'hello\n' }]);
  const gz1 = gzipSync(tar1);
  const gz2 = gzipSync(tar2);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2024-01-02T03:04:05Z',
    config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [sha256Digest(tar1), sha256Digest(tar2)] },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(config), size: config.length },
    layers: [gz1, gz2].map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256Digest(b), size: b.length })),
  }));
  return { tar1, tar2, gz1, gz2, config, manifest };
}

async function ociArchive(img: Awaited<ReturnType<typeof image>>, extra: FixtureEntry[] = [], refName = 'example.com/app:v1') {
  const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Digest(img.manifest), size: img.manifest.length, annotations: { 'org.opencontainers.image.ref.name': refName } }] };
  return fixtureTar([
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', data: JSON.stringify(index) },
    ...[img.gz1, img.gz2, img.config, img.manifest].map((b) => ({ name: `blobs/sha256/${hex(sha256Digest(b))}`, data: b })),
    ...extra,
  ]);
}

test('an OCI archive is read, verified, and invisible until published', async () => {
  const store = await newStore();
  const img = await image();
  const contents = await readImageArchive(Readable.from([await ociArchive(img)]), store);
  assert.equal(contents.images.length, 1);
  const [i] = contents.images;
  assert.equal(i.config.digest, sha256Digest(img.config));
  assert.equal(i.manifest.digest, sha256Digest(img.manifest));
  assert.deepEqual(i.names, ['example.com/app:v1']);
  assert.deepEqual(i.layers.map((l) => l.diffID), [sha256Digest(img.tar1), sha256Digest(img.tar2)]);
  assert.deepEqual(i.layers.map((l) => l.compression), ['gzip', 'gzip']);
  assert.equal((await visible(store)).blobs, 0, 'nothing published yet');
  const fresh = await contents.publish();
  assert.equal(fresh.length, 4);
  assert.deepEqual(await visible(store), { blobs: 4, ingests: 0 });
});

test('the old docker save layout, with a symlinked duplicate layer, is read and given a manifest', async () => {
  const store = await newStore();
  const img = await image();
  const configJson = JSON.parse(img.config.toString());
  configJson.rootfs.diff_ids = [sha256Digest(img.tar1), sha256Digest(img.tar2), sha256Digest(img.tar1)];
  const config = Buffer.from(JSON.stringify(configJson));
  const [id1, id2, id3] = ['1', '2', '3'].map((c) => c.repeat(64));
  const tar = await fixtureTar([
    { name: `${hex(sha256Digest(config))}.json`, data: config },
    { name: `${id1}/`, type: 'directory' },
    { name: `${id1}/layer.tar`, data: img.tar1 },
    { name: `${id1}/json`, data: '{}' },
    { name: `${id1}/VERSION`, data: '1.0' },
    { name: `${id2}/layer.tar`, data: img.tar2 },
    { name: `${id3}/layer.tar`, type: 'symlink', linkname: `../${id1}/layer.tar` },
    { name: 'manifest.json', data: JSON.stringify([{ Config: `${hex(sha256Digest(config))}.json`, RepoTags: ['busybox:latest'], Layers: [`${id1}/layer.tar`, `${id2}/layer.tar`, `${id3}/layer.tar`] }]) },
    { name: 'repositories', data: JSON.stringify({ busybox: { latest: id3 } }) },
  ]);
  const contents = await readImageArchive(Readable.from([tar]), store);
  const [i] = contents.images;
  assert.deepEqual(i.names, ['docker.io/library/busybox:latest']);
  assert.deepEqual(i.layers.map((l) => [l.blob.digest, l.blob.mediaType]), [
    [sha256Digest(img.tar1), 'application/vnd.oci.image.layer.v1.tar'],
    [sha256Digest(img.tar2), 'application/vnd.oci.image.layer.v1.tar'],
    [sha256Digest(img.tar1), 'application/vnd.oci.image.layer.v1.tar'],
  ]);
  await contents.publish();
  const manifest = JSON.parse((await store.read(i.manifest.digest)).toString());
  assert.equal(manifest.config.digest, sha256Digest(config));
  assert.equal(manifest.layers.length, 3);
  assert.deepEqual(await visible(store), { blobs: 4, ingests: 0 });
});

async function refused(tar: Buffer, message: RegExp) {
  const store = await newStore();
  await assert.rejects(readImageArchive(Readable.from([tar]), store), (err: Error & { kind?: string }) => {
    assert.equal(err.kind, 'InvalidArgument', err.message);
    assert.match(err.message, message);
    return true;
  });
  assert.deepEqual(await visible(store), { blobs: 0, ingests: 0 }, 'a refused archive leaves nothing');
}

test('bad archives are refused with one clear message and leave nothing', async () => {
  const img = await image();
  await refused(await ociArchive(img, [{ name: '../escape', data: 'x' }]), /archive entry "..\/escape" escapes the archive/);
  await refused(await ociArchive(img, [{ name: '/abs', data: 'x' }]), /not a relative path/);
  await refused(await ociArchive(img, [{ name: 'link', type: 'symlink', linkname: '../../etc/passwd' }]), /links outside the archive/);
  await refused(await ociArchive(img, [{ name: 'dev', type: 'character-device' }]), /has type character-device/);
  await refused(await fixtureTar([{ name: 'manifest.json', data: '[{"Config":' }]), /manifest.json is not valid JSON/);
  await refused(await fixtureTar([{ name: 'manifest.json', data: '['.repeat(200) + ']'.repeat(200) }]), /nests deeper/);
  await refused(await fixtureTar([{ name: 'hello', data: 'x' }]), /neither manifest.json .* nor oci-layout/);
  await refused(Buffer.from('this is not a tar file at all, not even close.'.repeat(20)), /cannot read the archive|neither manifest.json/);

  // A blob whose bytes do not match the digest its name and the manifest claim.
  const tampered = { ...img, gz2: gzipSync(await fixtureTar([{ name: 'evil', data: 'x' }])) };
  const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Digest(img.manifest), size: img.manifest.length }] };
  await refused(await fixtureTar([
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', data: JSON.stringify(index) },
    { name: `blobs/sha256/${hex(sha256Digest(img.gz1))}`, data: img.gz1 },
    { name: `blobs/sha256/${hex(sha256Digest(img.gz2))}`, data: tampered.gz2 },
    { name: `blobs/sha256/${hex(sha256Digest(img.config))}`, data: img.config },
    { name: `blobs/sha256/${hex(sha256Digest(img.manifest))}`, data: img.manifest },
  ]), /does not match its digest or size/);

  // A layer whose uncompressed content is not the diff ID the config declares.
  const cfg = JSON.parse(img.config.toString());
  cfg.rootfs.diff_ids[1] = sha256Digest('something else');
  const badConfig = Buffer.from(JSON.stringify(cfg));
  await refused(await fixtureTar([
    { name: 'config.json', data: badConfig },
    { name: 'l1.tar', data: img.tar1 },
    { name: 'l2.tar.gz', data: img.gz2 },
    { name: 'manifest.json', data: JSON.stringify([{ Config: 'config.json', Layers: ['l1.tar', 'l2.tar.gz'] }]) },
  ]), /has diff ID .* but the image config says/);
});

test('written archives read back the same, in both the docker and the OCI reading', async () => {
  const store = await newStore();
  const img = await image();
  const contents = await readImageArchive(Readable.from([await ociArchive(img)]), store);
  await contents.publish();
  const [i] = contents.images;
  const record = {
    id: i.config.digest, manifest: i.manifest, config: i.config, os: 'linux', architecture: 'amd64',
    layers: i.layers.map((l, n) => ({ diffID: l.diffID, chainID: `sha256:${n}`, blob: l.blob })),
  };
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeImageArchive([{ record, names: [normalizeReference('app:v2')] }], store, out);
  const written = Buffer.concat(chunks);

  const store2 = await newStore();
  const back = await readImageArchive(Readable.from([written]), store2);
  assert.equal(back.images.length, 1);
  assert.equal(back.images[0].config.digest, i.config.digest);
  assert.equal(back.images[0].manifest.digest, i.manifest.digest, 'the manifest is kept, not re-made');
  assert.deepEqual(back.images[0].names, ['docker.io/library/app:v2']);
  await back.publish();
  assert.equal((await store2.list()).length, 4);

  // The same archive without the docker files is a plain OCI layout, and reads the same.
  const names: string[] = [];
  const kept: FixtureEntry[] = [];
  const ex = tarStream.extract();
  ex.on('entry', (h, s, next) => {
    const parts: Buffer[] = [];
    s.on('data', (c: unknown) => parts.push(c as Buffer));
    s.on('end', () => {
      names.push(h.name);
      if (h.type === 'file' && h.name !== 'manifest.json' && h.name !== 'repositories') kept.push({ name: h.name, data: Buffer.concat(parts) });
      next();
    });
  });
  await pipeline(Readable.from([written]), ex);
  assert.deepEqual(names.filter((n) => !n.startsWith('blobs')), ['index.json', 'manifest.json', 'oci-layout', 'repositories']);
  const oci = await readImageArchive(Readable.from([await fixtureTar(kept)]), await newStore());
  assert.equal(oci.images[0].manifest.digest, i.manifest.digest);
  assert.deepEqual(oci.images[0].names, ['docker.io/library/app:v2']);
  await oci.discard();
});
