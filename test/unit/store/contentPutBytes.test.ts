// ContentStore.putBytes: a small in-memory blob (a config, a manifest) stored without an ingest,
// verified before it is visible, and success when it is there already.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isKind } from '../../../engine/src/errors';
import { ContentStore } from '../../../engine/src/store/content';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('putBytes stores bytes under their digest, read-only, leaving no ingest or temp file', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'silo-putbytes-'));
  try {
    const store = new ContentStore(root);
    const bytes = Buffer.from('{"config":true}');
    assert.deepEqual(await store.putBytes(bytes, { digest: sha(bytes) }), { digest: sha(bytes), size: bytes.length });
    assert.deepEqual(await store.read(sha(bytes)), bytes);
    assert.equal(statSync(store.path(sha(bytes))).mode & 0o777, 0o444);
    // Again: success, nothing else written.
    assert.deepEqual(await store.putBytes(bytes), { digest: sha(bytes), size: bytes.length });
    assert.deepEqual(readdirSync(store.blobsDir), [sha(bytes).slice(7)]);
    assert.deepEqual(await store.staleIngests(), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('putBytes with the wrong digest or size writes nothing', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'silo-putbytes-'));
  try {
    const store = new ContentStore(root);
    const bytes = Buffer.from('manifest');
    await assert.rejects(store.putBytes(bytes, { digest: sha(Buffer.from('other')) }), (e) => isKind(e, 'InvalidArgument'));
    await assert.rejects(store.putBytes(bytes, { size: 3 }), (e) => isKind(e, 'InvalidArgument'));
    assert.deepEqual(await store.list(), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a temp file left in blobs/ by a writer that died mid-write is swept with stale ingests; a live writer\'s is kept', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'silo-putbytes-'));
  try {
    const store = new ContentStore(root);
    await store.putBytes(Buffer.from('x'));
    const dead = `.tmp-999999999-0123456789ab-${'a'.repeat(64)}`;
    const live = `.tmp-${process.pid}-0123456789ab-${'b'.repeat(64)}`;
    writeFileSync(path.join(store.blobsDir, dead), 'half');
    writeFileSync(path.join(store.blobsDir, live), 'writing');
    await store.removeStaleIngests();
    const names = readdirSync(store.blobsDir);
    assert.ok(!names.includes(dead));
    assert.ok(names.includes(live));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
