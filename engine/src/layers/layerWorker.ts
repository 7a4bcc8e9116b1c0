// The layer worker: a worker thread that takes a layer blob's bytes from the engine's event loop and
// inflates (ISA-L, else zlib: layers/gunzip.ts) and hashes them (the diff ID), then either hands the
// tar back in pieces ('inflate') or unpacks it itself into a directory ('unpack', extract.ts).
// Unpacking here keeps the tar's bytes, its buffers and their garbage off the event loop, which then
// only downloads: a pull's CPU spreads over the cores (layers/layerWorkers.ts has the main side).
//
// Messages, by job id. In: start, data (the blob's bytes, moved), end, pause/resume (inflate: the
// reader's backpressure), stop. Out: credit (input bytes taken, so the sender may send more), data
// (tar pieces), end (the digest), done (unpacked: digest, entries, bytes), error.
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { Readable, Transform } from 'node:stream';
import { SiloError } from '../errors';
import { decompressStream } from './compression';
import type { ExtractLimits } from './extract';
import { isalGunzip } from './gunzip';

/** What a job does; `zlib` forces zlib for gzip (tests). */
export type JobStart =
  | { type: 'start'; job: 'inflate'; kind: string; zlib?: boolean }
  | { type: 'start'; job: 'unpack'; kind: string; zlib?: boolean; dir: string; whiteouts: 'overlay' | 'apply'; limits?: ExtractLimits };

export type ToWorker =
  | (JobStart & { id: number })
  | { id: number; type: 'data'; chunk: Uint8Array }
  | { id: number; type: 'end' | 'pause' | 'resume' | 'stop' };

export type FromWorker =
  | { id: number; type: 'credit'; bytes: number }
  | { id: number; type: 'data'; chunk: Uint8Array }
  | { id: number; type: 'end'; digest: string }
  | { id: number; type: 'done'; digest: string; entries: number; bytes: number }
  | { id: number; type: 'error'; message: string; kind?: SiloError['kind']; hint?: string };

/** Input bytes are acknowledged in steps of about this size. */
const CREDIT_STEP = 1 << 20;

const port = parentPort;
const jobs = new Map<number, (m: ToWorker) => void>();

function post(m: FromWorker, transfer?: ArrayBuffer[]): void {
  port?.postMessage(m, transfer);
}

function start(m: JobStart & { id: number }): (m: ToWorker) => void {
  const id = m.id;
  let over = false;
  const finish = (out?: FromWorker) => {
    if (over) return;
    over = true;
    jobs.delete(id);
    if (out) post(out);
  };
  const fail = (err: unknown) => {
    const e = err as Error;
    finish(e instanceof SiloError ? { id, type: 'error', message: e.message, kind: e.kind, hint: e.hint } : { id, type: 'error', message: e?.message ?? String(err) });
  };

  const source = new Readable({ highWaterMark: 4 << 20, read() { /* fed by messages */ } });
  let credit = 0;
  const counted = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb) {
      credit += chunk.length;
      if (credit >= CREDIT_STEP) {
        post({ id, type: 'credit', bytes: credit });
        credit = 0;
      }
      cb(null, chunk);
    },
  });
  source.on('error', (err) => counted.destroy(err));
  source.pipe(counted);

  const hash = createHash('sha256');
  const hashed = new Transform({
    readableHighWaterMark: 4 << 20,
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const digest = () => `sha256:${hash.digest('hex')}`;

  void (async () => {
    const inflater = m.kind === 'gzip' && !m.zlib ? isalGunzip() : undefined;
    let plain: Readable;
    if (inflater) {
      counted.on('error', (err) => inflater.destroy(err));
      plain = counted.pipe(inflater);
    } else {
      plain = await decompressStream(counted);
    }
    plain.on('error', (err) => hashed.destroy(err));
    plain.pipe(hashed);
    if (m.job === 'inflate') {
      hashed.on('data', (c: Buffer) => {
        const whole = c.byteOffset === 0 && c.byteLength === c.buffer.byteLength;
        const piece = whole ? c : Buffer.from(c);
        post({ id, type: 'data', chunk: piece }, [piece.buffer as ArrayBuffer]);
      });
      hashed.on('end', () => finish({ id, type: 'end', digest: digest() }));
      hashed.on('error', fail);
    } else {
      // Loaded on the first unpack: an inflate-only worker never needs the tar code or libc.
      const { extractLayer } = require('./extract') as typeof import('./extract');
      const { linuxSpecialFiles } = require('../platform/linux/libc') as typeof import('../platform/linux/libc');
      const r = await extractLayer(hashed, m.dir, { special: linuxSpecialFiles, whiteouts: m.whiteouts, limits: m.limits });
      finish({ id, type: 'done', digest: digest(), entries: r.entries, bytes: r.bytes });
    }
  })().catch(fail);

  return (msg) => {
    if (msg.type === 'data') source.push(Buffer.from(msg.chunk.buffer, msg.chunk.byteOffset, msg.chunk.byteLength));
    else if (msg.type === 'end') source.push(null);
    else if (msg.type === 'pause') hashed.pause();
    else if (msg.type === 'resume') hashed.resume();
    else if (msg.type === 'stop') {
      if (m.job === 'inflate') {
        finish();
        hashed.destroy();
      }
      // An unpack reports its end (an error) once the extraction stopped writing: only then may the
      // engine delete its directory.
      source.destroy(new Error('the unpack was stopped'));
    }
  };
}

port?.on('message', (m: ToWorker) => {
  if (m.type === 'start') jobs.set(m.id, start(m));
  else jobs.get(m.id)?.(m);
});
