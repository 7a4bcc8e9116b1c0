// A layer's files read straight from its tar (the Layers view): listing with a cap, whiteouts as
// deletions, one file's bytes (through a hard link too), and history rows mapped to layers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { historyLayerIndexes, listLayer, readLayerFile } from '../../../engine/src/layers/listing';

async function layerTar(): Promise<Buffer> {
  const p = tarStream.pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => p.on('end', () => r()));
  p.entry({ name: './bin/', type: 'directory' });
  p.entry({ name: './bin/busybox', mode: 0o755 }, Buffer.from('#!busybox'));
  p.entry({ name: './bin/sh', type: 'link', linkname: './bin/busybox' });
  p.entry({ name: './lib64', type: 'symlink', linkname: 'lib' });
  p.entry({ name: './etc/.wh.motd' }, Buffer.alloc(0));
  p.entry({ name: './var/cache/.wh..wh..opq' }, Buffer.alloc(0));
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

test('a layer lists its entries as absolute paths, whiteouts as the paths they delete', async () => {
  const l = await listLayer(Readable.from(await layerTar()));
  assert.deepEqual(l.entries, [
    { path: '/bin', kind: 'dir', size: 0 },
    { path: '/bin/busybox', kind: 'file', size: 9 },
    { path: '/bin/sh', kind: 'file', size: 0, target: '/bin/busybox' },
    { path: '/lib64', kind: 'symlink', size: 0, target: 'lib' },
    { path: '/etc/motd', kind: 'whiteout', size: 0 },
    { path: '/var/cache', kind: 'whiteout', size: 0, opaque: true },
  ]);
  assert.equal(l.more, 0);
});

test('past the cap entries are counted, not returned', async () => {
  const l = await listLayer(Readable.from(await layerTar()), 2);
  assert.equal(l.entries.length, 2);
  assert.equal(l.more, 4);
});

test('one file is read from the layer, a hard link through its target; absent and escaping paths are refused', async () => {
  const tar = await layerTar();
  const open = async () => Readable.from(tar);
  assert.equal((await readLayerFile(open, '/bin/busybox')).data?.toString(), '#!busybox');
  assert.equal((await readLayerFile(open, '/bin/sh')).data?.toString(), '#!busybox');
  assert.deepEqual(await readLayerFile(open, '/lib64'), { type: 'symlink', size: 0, mtime: (await readLayerFile(open, '/lib64')).mtime, target: 'lib' });
  await assert.rejects(readLayerFile(open, '/etc/motd'), { kind: 'NotFound' });
  await assert.rejects(readLayerFile(open, '/../etc/passwd'), { kind: 'InvalidArgument' });
  await assert.rejects(readLayerFile(open, '/bin/busybox', 4), { kind: 'FailedPrecondition' });
});

test('history rows (newest first) map to the layers they added; metadata-only rows to none', () => {
  assert.deepEqual(historyLayerIndexes([{ created_by: 'ADD' }, { created_by: 'CMD', empty_layer: true }, { created_by: 'RUN' }], 2), [1, null, 0]);
  assert.deepEqual(historyLayerIndexes(undefined, 2), [1, 0]);
});
