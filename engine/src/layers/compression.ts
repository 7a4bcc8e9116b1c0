// Layer blobs come gzip-compressed, zstd-compressed or plain (OCI image-spec layer.md media types).
// The format is sniffed from the first bytes, not trusted from the media type, as containerd
// pkg/archive/compression does.
import { PassThrough, Readable } from 'node:stream';
import zlib from 'node:zlib';
import { invalidArgument, notImplemented } from '../errors';

export type Compression = 'gzip' | 'zstd' | 'none';

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd]; // RFC 8878 §3.1.1

/** The compression of a stream starting with `head` (at least 4 bytes when the stream has them). */
export function sniffCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) return 'gzip';
  if (head.length >= 4 && ZSTD_MAGIC.every((b, i) => head[i] === b)) return 'zstd';
  return 'none';
}

type ZstdZlib = typeof zlib & { createZstdDecompress?: () => NodeJS.ReadWriteStream };

/**
 * The uncompressed stream of a layer blob, whatever its compression. Resolves once the first bytes
 * are read; a zstd layer on a Node without zstd (before 22.15) rejects with NotImplemented.
 */
export async function decompressStream(input: Readable): Promise<Readable> {
  const head = await readHead(input, 4);
  const kind = sniffCompression(head);
  // Put the sniffed bytes back in front of the rest.
  const whole = new PassThrough({ highWaterMark: 1 << 20 });
  if (head.length > 0) whole.write(head);
  input.on('error', (err) => whole.destroy(err));
  input.pipe(whole);

  if (kind === 'none') return whole;
  let inflate: NodeJS.ReadWriteStream;
  if (kind === 'gzip') {
    inflate = zlib.createGunzip({ chunkSize: 1 << 20 });
  } else {
    const create = (zlib as ZstdZlib).createZstdDecompress;
    if (typeof create !== 'function') {
      input.destroy();
      throw notImplemented(`this layer is zstd-compressed and Node ${process.versions.node} has no zstd decoder`,
        'run the engine on Node 22.15 or newer, or use images with gzip layers');
    }
    inflate = create();
  }
  const out = whole.pipe(inflate) as unknown as Readable;
  whole.on('error', (err) => out.destroy(err));
  out.on('error', () => { /* surfaced to the reader of `out` */ });
  // zlib's errors ("incorrect header check") mean a corrupt blob: say so in one sentence.
  const wrapped = new PassThrough({ highWaterMark: 1 << 20 });
  out.on('error', (err: NodeJS.ErrnoException) => {
    wrapped.destroy(err.code?.startsWith('Z_') ? invalidArgument(`layer blob is not valid ${kind} data (${err.message})`, 'the blob is corrupt; pull it again') : err);
  });
  out.pipe(wrapped);
  return wrapped;
}

/** Gzip-compresses a layer tar (for push and commit); level 6 is gzip's and Docker's default. */
export function gzipStream(tar: Readable, level = 6): Readable {
  const gz = zlib.createGzip({ level, chunkSize: 1 << 20 });
  tar.on('error', (err) => gz.destroy(err));
  return tar.pipe(gz);
}

/** Reads up to `n` bytes from the start of `input` without losing them (they are returned). */
export function readHead(input: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const done = () => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      input.off('error', onError);
      resolve(Buffer.concat(parts));
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while (got < n && (chunk = input.read() as Buffer | null) !== null) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        parts.push(buf);
        got += buf.length;
      }
      if (got >= n) done();
    };
    const onEnd = () => done();
    const onError = (err: Error) => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      reject(err);
    };
    input.on('readable', onReadable);
    input.once('end', onEnd);
    input.once('error', onError);
  });
}
