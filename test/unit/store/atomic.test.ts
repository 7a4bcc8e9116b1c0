import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../../../engine/src/store/atomic';
import { RecordStore } from '../../../engine/src/store/records';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'silo-store-'));

test('writeFileAtomic replaces a file and leaves no temp file', async () => {
  const dir = tmp();
  const f = path.join(dir, 'a.json');
  await writeFileAtomic(f, 'one');
  await writeFileAtomic(f, 'two', 0o600);
  assert.equal(await fs.readFile(f, 'utf8'), 'two');
  assert.deepEqual(await fs.readdir(dir), ['a.json']);
  assert.equal((await fs.stat(f)).mode & 0o777, 0o600);
});

test('records: put, get, list, delete', async () => {
  const store = new RecordStore<{ n: number }>(path.join(tmp(), 'recs'));
  assert.equal(await store.get('missing'), undefined);
  assert.deepEqual(await store.list(), []);
  await store.put('b', { n: 2 });
  await store.put('a', { n: 1 });
  assert.deepEqual(await store.get('a'), { n: 1 });
  assert.deepEqual(await store.list(), ['a', 'b']);
  assert.equal(await store.delete('a'), true);
  assert.equal(await store.delete('a'), false);
  assert.deepEqual(await store.entries(), [['b', { n: 2 }]]);
});

test('records: a key cannot name a path outside the directory', async () => {
  const store = new RecordStore<unknown>(tmp());
  await assert.rejects(store.put('../x', {}), { kind: 'InvalidArgument' });
  await assert.rejects(store.get('a/b'), { kind: 'InvalidArgument' });
});

test('records: temp files of a dead writer are ignored and removed; a corrupt record does not hide the rest', async () => {
  const dir = tmp();
  const store = new RecordStore<{ n: number }>(dir);
  await store.put('good', { n: 1 });
  // A writer that died mid-write (pid 2^22+1 does not exist) and one that is alive (us).
  const dead = path.join(dir, `.tmp-${2 ** 22 + 1}-0123456789ab-x.json`);
  const live = path.join(dir, `.tmp-${process.pid}-0123456789ab-y.json`);
  await fs.writeFile(dead, '{"n":');
  await fs.writeFile(live, '{"n":');
  await fs.writeFile(path.join(dir, 'bad.json'), '{not json');
  assert.deepEqual(await store.list(), ['bad', 'good']);
  assert.deepEqual(await store.entries(), [['good', { n: 1 }]]);
  await assert.rejects(store.get('bad'), { kind: 'Internal' });
  const left = await fs.readdir(dir);
  assert.ok(!left.includes(path.basename(dead)), 'dead writer temp removed');
  assert.ok(left.includes(path.basename(live)), 'live writer temp kept');
});
