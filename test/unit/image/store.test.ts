import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sha256Digest } from '../../../engine/src/image/digest';
import { formatReference } from '../../../engine/src/image/reference';
import { ImageStore, type ImageRecord } from '../../../engine/src/image/store';
import { ContentStore } from '../../../engine/src/store/content';

function record(seed: string): ImageRecord {
  const id = sha256Digest(seed);
  return {
    id,
    manifest: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Digest(`m${seed}`), size: 1 },
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: id, size: 1 },
    layers: [],
    os: 'linux',
    architecture: 'amd64',
  };
}

function newStore() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'silo-images-'));
  return new ImageStore(root, new ContentStore(root));
}

test('tag, resolve by name, full ID, short ID and untag', async () => {
  const s = newStore();
  const a = record('a');
  await s.put(a);
  await s.tag('busybox', a.id);
  await s.tag('localhost:5000/x/y:v1', a.id);
  assert.equal((await s.resolve('busybox')).id, a.id);
  assert.equal((await s.resolve('busybox:latest')).id, a.id);
  assert.equal((await s.resolve('docker.io/library/busybox:latest')).id, a.id);
  assert.equal((await s.resolve(a.id)).id, a.id);
  assert.equal((await s.resolve(a.id.slice(7))).id, a.id);
  assert.equal((await s.resolve(a.id.slice(7, 19))).id, a.id);
  assert.equal((await s.resolve(a.id.slice(0, 12))).id, a.id);
  assert.deepEqual((await s.refsOf(a.id)).map(formatReference), ['docker.io/library/busybox:latest', 'localhost:5000/x/y:v1']);
  assert.ok((await s.get(a.id))?.lastTagTime);
  assert.equal(await s.untag('busybox'), a.id);
  await assert.rejects(s.resolve('busybox'), { kind: 'NotFound', message: 'No such image: busybox' });
  await assert.rejects(s.untag('busybox'), { kind: 'NotFound' });
  await assert.rejects(s.resolve('Busybox'), /repository name must be lowercase/);
});

test('moving a tag reports the image it was taken from', async () => {
  const s = newStore();
  const [a, b] = [record('a'), record('b')];
  await s.put(a);
  await s.put(b);
  assert.deepEqual(await s.tag('app:1', a.id), { previous: undefined });
  assert.deepEqual(await s.tag('app:1', b.id), { previous: a.id });
  assert.deepEqual(await s.tag('app:1', b.id), { previous: undefined });
  await assert.rejects(s.tag('app:2', sha256Digest('nope')), { kind: 'NotFound' });
});

test('name@digest resolves by the manifest digest of an image in that repository', async () => {
  const s = newStore();
  const a = record('a');
  await s.put(a);
  await s.tag('app:1', a.id);
  assert.equal((await s.resolve(`app@${a.manifest.digest}`)).id, a.id);
  await assert.rejects(s.resolve(`other@${a.manifest.digest}`), { kind: 'NotFound' });
});

test('an ambiguous ID prefix is refused', async () => {
  const s = newStore();
  // Find two seeds whose IDs share the first hex digit.
  const recs = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r'].map(record);
  for (const r of recs) await s.put(r);
  const first = recs[0].id[7];
  const clash = recs.filter((r) => r.id[7] === first);
  if (clash.length > 1) await assert.rejects(s.resolve(first), /ambiguous/);
  await s.delete(recs[0].id);
  assert.equal(await s.get(recs[0].id), undefined);
  assert.equal((await s.list()).length, recs.length - 1);
});
