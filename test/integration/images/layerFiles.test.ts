// The Layers view's engine requests against a real engine: which history rows added layers, a layer's
// files (busybox's /bin/busybox), and one file read from the layer's tar.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as P from '../../../engine/src/protocol';
import { connectEngine } from '../../../engine/src/rpc/connect';
import { SiloFixture, repoRoot } from '../../fixtures/fixtureSilo';

let silo: SiloFixture;
before(() => {
  silo = new SiloFixture();
  silo.importBusybox();
});
after(() => silo.dispose());

test("an imported image's one layer lists its files and serves them read-only", async () => {
  const conn = await connectEngine(silo.root, { engineScript: path.join(repoRoot, 'dist/silo.js') });
  try {
    const rows = await conn.sendRequest(P.ImageHistoryRequest.type, { ref: 'busybox' });
    const layers = await conn.sendRequest(P.ImageLayersRequest.type, { ref: 'busybox' });
    assert.equal(layers.layerOfRow.length, rows.length, 'one answer per history row');
    assert.deepEqual(layers.layerOfRow, [0]);
    assert.match(layers.id, /^sha256:[0-9a-f]{64}$/);

    const listing = await conn.sendRequest(P.ImageLayerFilesRequest.type, { ref: layers.id, index: 0 });
    const busybox = listing.entries.find((e) => e.path === '/bin/busybox');
    assert.ok(busybox && busybox.kind === 'file' && busybox.size > 100_000, 'the busybox binary with its size');
    assert.deepEqual(listing.entries.find((e) => e.path === '/bin/sh'), { path: '/bin/sh', kind: 'symlink', size: 0, target: 'busybox' });
    const capped = await conn.sendRequest(P.ImageLayerFilesRequest.type, { ref: 'busybox', index: 0, limit: 10 });
    assert.equal(capped.entries.length, 10);
    assert.equal(capped.more, listing.entries.length - 10);

    const passwd = await conn.sendRequest(P.ImageLayerReadFileRequest.type, { ref: layers.id, index: 0, path: '/etc/passwd' });
    assert.match(Buffer.from(passwd.data ?? '', 'base64').toString(), /^root:x:0:0:/);
    await assert.rejects(conn.sendRequest(P.ImageLayerFilesRequest.type, { ref: 'busybox', index: 1 }), /has no layer 1/);
    await assert.rejects(conn.sendRequest(P.ImageLayerReadFileRequest.type, { ref: 'busybox', index: 0, path: '/no/such' }), /no file \/no\/such in this layer/);
  } finally {
    conn.dispose();
  }
});
