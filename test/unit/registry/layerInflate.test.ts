// A pulled layer's blob -> its tar and diff ID (layers/layerWorkers.ts): the same bytes and digest
// as inflating here, a corrupt or truncated blob fails the tar instead of ending it, and the shared
// worker keeps serving layers after one failed or was stopped. Each test runs with ISA-L (when the
// library is built, as scripts/setup.sh does) and with zlib.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { isKind } from '../../../engine/src/errors';
import { inflateAndHash } from '../../../engine/src/layers/layerWorkers';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** About 3 MB: random (stored blocks) and repetitive (long matches), as in real layers. */
function sample(): Buffer {
  return Buffer.concat([randomBytes(1 << 20), Buffer.alloc(2 << 20, 'text-like data '), randomBytes(12345)]);
}

/** A readable giving `data` in pieces of `size` bytes, as a socket would. */
function pieces(data: Buffer, size = 64 * 1024): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(Buffer.from(data.subarray(i, i + size)));
  return Readable.from(parts);
}

async function readAll(s: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(c as Buffer);
  return Buffer.concat(out);
}

for (const [name, opts] of [['ISA-L', {}], ['zlib', { zlib: true }]] as const) {
  test(`${name}: a gzip layer (two members, as some tools write) inflates to the same tar and digest, three at once`, async () => {
    const tars = [sample(), sample(), sample()];
    const blobs = tars.map((tar) => Buffer.concat([zlib.gzipSync(tar.subarray(0, 1 << 20), { level: 1 }), zlib.gzipSync(tar.subarray(1 << 20), { level: 6 })]));
    for (let round = 0; round < 2; round++) { // the second round reuses the idle worker
      await Promise.all(blobs.map(async (blob, i) => {
        const { tar, digest } = await inflateAndHash(pieces(blob), opts);
        assert.deepEqual(await readAll(tar), tars[i]);
        assert.equal(await digest, sha(tars[i]));
      }));
    }
  });

  test(`${name}: a corrupt blob fails the tar with InvalidArgument, and so does a truncated one; the next layer still inflates`, async () => {
    const tar = sample();
    const gz = zlib.gzipSync(tar);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 5000, 9000);
    for (const blob of [corrupt, gz.subarray(0, gz.length - 5000)]) {
      const { tar: out, digest } = await inflateAndHash(pieces(blob), opts);
      await assert.rejects(readAll(out), (err) => isKind(err, 'InvalidArgument') && /not valid gzip data/.test((err as Error).message));
      await assert.rejects(digest);
    }
    const good = await inflateAndHash(pieces(gz), opts);
    assert.deepEqual(await readAll(good.tar), tar);
  });

  test(`${name}: stopping the tar half-way ends that layer only; a layer beside it and the next one still inflate`, async () => {
    const tar = Buffer.concat([sample(), sample(), sample()]);
    const gz = zlib.gzipSync(tar, { level: 1 });
    const beside = await inflateAndHash(pieces(gz), opts);
    const { tar: out, digest } = await inflateAndHash(pieces(gz), opts);
    for await (const _ of out) break; // destroys the stream after the first piece
    await assert.rejects(digest);
    assert.equal(sha(await readAll(beside.tar)), sha(tar));
    const again = await inflateAndHash(pieces(gz), opts);
    assert.equal(sha(await readAll(again.tar)), sha(tar));
    assert.equal(await again.digest, sha(tar));
  });

  test(`${name}: a plain (uncompressed) layer passes through with its digest; a failing source fails the tar`, async () => {
    const tar = sample();
    const { tar: out, digest } = await inflateAndHash(pieces(tar), opts);
    assert.deepEqual(await readAll(out), tar);
    assert.equal(await digest, sha(tar));

    const broken = new Readable({ read() { /* pushed below */ } });
    broken.push(zlib.gzipSync(tar).subarray(0, 1000));
    const inflated = await inflateAndHash(broken, opts);
    broken.destroy(new Error('connection reset'));
    await assert.rejects(readAll(inflated.tar), /connection reset/);
  });
}
