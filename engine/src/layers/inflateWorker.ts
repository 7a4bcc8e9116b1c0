// A layer blob's tar and its sha256 (the diff ID), inflated and hashed off the event loop, which
// keeps the download, the blob ingest and the unpack ("separate layers decompress on separate cores").
//
// A worker thread hashes and gathers the tar into 1 MB pieces; zlib inflates on libuv's pool
// (several layers at once on several cores). Layers share workers: one per core beyond the event
// loop's (one on 2 cores), since each isolate costs about 90 ms of CPU to start, more than hashing a
// 100 MB layer. Pieces cross threads by transfer, not copy, where the buffer is the piece's alone.
//
// igzip (ISA-L), which containerd pkg/archive/compression runs when it is on PATH, was measured here
// and lost: through a child's pipes, 150 MB of shared libraries (gzip -6) cost 240 ms in igzip plus
// 150 ms in Node against 280-370 ms in zlib, and bench/pull.bench.ts took 1.9 CPU-s with it against
// 1.4 with zlib. So gzip stays in zlib.
//
// The worker's code is plain JavaScript over Node's built-ins given as source: it needs no file
// beside the bundle and loads nothing of the engine. zstd falls back to this thread.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Readable, Transform } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { invalidArgument } from '../errors';
import { decompressStream, readHead, sniffCompression } from './compression';

export interface InflatedLayer {
  /** The uncompressed layer tar. */
  tar: Readable;
  /** "sha256:<hex>" of everything `tar` carried; settles before `tar` ends (or when it fails). */
  digest: Promise<string>;
}

/** Bytes of one layer sent to the worker and not yet taken in by its inflater: beyond this the input waits. */
const MAX_IN_FLIGHT = 4 << 20;
/** The worker hands the tar over in pieces of about this size (fewer messages, fewer stream turns). */
const OUT_PIECE = 1 << 20;
/** Idle workers exit after this long. */
const IDLE_MS = 10_000;

const WORKER_SOURCE = String.raw`
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { PassThrough } = require('node:stream');
const zlib = require('node:zlib');
const OUT_PIECE = ${OUT_PIECE};
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.type === 'start') jobs.set(m.id, start(m.id, m.kind));
  else { const job = jobs.get(m.id); if (job) job(m); }
});
function start(id, kind) {
  const hash = createHash('sha256');
  const post = (m, transfer) => parentPort.postMessage(Object.assign({ id }, m), transfer);
  const stream = kind === 'gzip' ? zlib.createGunzip({ chunkSize: OUT_PIECE }) : new PassThrough({ highWaterMark: OUT_PIECE });
  let parts = [], size = 0, credit = 0;
  const flush = () => {
    if (size === 0) return;
    const out = Buffer.allocUnsafeSlow(size);
    let at = 0;
    for (const p of parts) { p.copy(out, at); at += p.length; }
    parts = []; size = 0;
    post({ type: 'data', chunk: out }, [out.buffer]);
  };
  stream.on('data', (c) => {
    hash.update(c);
    if (c.byteOffset === 0 && c.byteLength === c.buffer.byteLength && c.length >= OUT_PIECE) {
      // A full zlib output buffer is this chunk's alone (zlib took a new one): it moves as it is.
      flush();
      post({ type: 'data', chunk: c }, [c.buffer]);
      return;
    }
    parts.push(c); size += c.length; // a part of a buffer zlib still fills: copied out
    if (size >= OUT_PIECE) flush();
  });
  stream.on('end', () => {
    flush();
    jobs.delete(id);
    post({ type: 'end', digest: 'sha256:' + hash.digest('hex') });
  });
  stream.on('error', (err) => {
    jobs.delete(id);
    post({ type: 'error', message: err.message, corrupt: String(err.code || '').startsWith('Z_') });
  });
  return (m) => {
    if (m.type === 'data') {
      const chunk = Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength);
      stream.write(chunk, () => {
        credit += chunk.length;
        if (credit >= OUT_PIECE) { post({ type: 'credit', bytes: credit }); credit = 0; }
      });
    } else if (m.type === 'end') stream.end();
    else if (m.type === 'pause') stream.pause();
    else if (m.type === 'resume') stream.resume();
    else if (m.type === 'stop') { jobs.delete(id); stream.destroy(); }
  };
}
`;

type FromWorker = { id: number; type: 'data' | 'credit' | 'end' | 'error'; chunk?: Uint8Array; bytes?: number; digest?: string; message?: string; corrupt?: boolean };

interface PoolWorker {
  worker: Worker;
  jobs: Map<number, (m: FromWorker) => void>;
  idleTimer?: NodeJS.Timeout;
}

const pool: PoolWorker[] = [];
let nextJob = 1;
const poolSize = Math.max(1, Math.min(3, availableParallelism() - 1));

function failAll(w: PoolWorker, err: Error): void {
  const i = pool.indexOf(w);
  if (i >= 0) pool.splice(i, 1);
  for (const job of w.jobs.values()) job({ id: 0, type: 'error', message: err.message });
  w.jobs.clear();
}

/** The worker with the fewest layers, a new one while the pool has room. */
function takeWorker(): PoolWorker {
  let w = pool.length < poolSize ? undefined : pool.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
  if (!w) {
    const worker = new Worker(WORKER_SOURCE, { eval: true, stdout: false, stderr: false });
    const created: PoolWorker = { worker, jobs: new Map() };
    worker.on('message', (m: FromWorker) => created.jobs.get(m.id)?.(m));
    worker.on('error', (err) => failAll(created, err));
    worker.on('exit', () => failAll(created, new Error('the inflate worker stopped')));
    pool.push(created);
    w = created;
  }
  clearTimeout(w.idleTimer);
  // Referenced while it works (a layer's end may be all the engine waits for), not when idle.
  w.worker.ref();
  return w;
}

function release(w: PoolWorker, id: number): void {
  w.jobs.delete(id);
  if (w.jobs.size > 0) return;
  w.worker.unref(); // an idle worker never keeps the engine (or a CLI) alive
  w.idleTimer = setTimeout(() => {
    if (w.jobs.size > 0) return;
    const i = pool.indexOf(w);
    if (i >= 0) pool.splice(i, 1);
    w.worker.removeAllListeners('exit');
    void w.worker.terminate();
  }, IDLE_MS);
  w.idleTimer.unref();
}

/** The chunk's memory moves to the worker when nothing else can see it; else a copy goes. */
function movable(chunk: Buffer): Buffer {
  return chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : Buffer.from(chunk);
}

/**
 * Inflates the layer blob read from `input` (gzip or plain; zstd on this thread) and hashes the tar,
 * off the event loop. The tar fails, never ends early, when the blob is corrupt (InvalidArgument) or
 * `input` fails (with its error). Destroying the tar stops the work. The input's chunks are taken:
 * their memory may move to the worker, so nothing else may read them afterwards.
 */
export async function inflateAndHash(input: Readable): Promise<InflatedLayer> {
  const head = await readHead(input, 4);
  const kind = sniffCompression(head);
  let w: PoolWorker | undefined;
  try {
    if (kind !== 'zstd') w = takeWorker();
  } catch {
    // no worker to be had (a resource limit): the same work on this thread
  }
  if (!w) return hashHere(await decompressStream(Readable.from(prepend(head, input))));
  const pooled = w;
  const id = nextJob++;
  let resolveDigest!: (d: string) => void;
  let rejectDigest!: (e: Error) => void;
  const digest = new Promise<string>((res, rej) => { resolveDigest = res; rejectDigest = rej; });
  digest.catch(() => undefined);
  let inFlight = 0;
  let done = false;
  let paused = false;
  let inputPaused = false;

  const tar = new Readable({
    highWaterMark: 4 << 20,
    read() {
      if (paused && !done) {
        paused = false;
        pooled.worker.postMessage({ id, type: 'resume' });
      }
    },
    destroy(err, cb) {
      finish(err ?? new Error('the tar stream was closed'));
      cb(err);
    },
  });
  const finish = (err?: Error) => {
    if (done) return;
    done = true;
    input.off('data', onData);
    input.off('end', onEnd);
    input.off('error', onInputError);
    if (err) {
      rejectDigest(err);
      pooled.worker.postMessage({ id, type: 'stop' });
      input.destroy();
    }
    release(pooled, id);
  };
  pooled.jobs.set(id, (m) => {
    if (done) return;
    if (m.type === 'data') {
      const c = m.chunk!;
      if (!tar.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength)) && !paused) {
        paused = true;
        pooled.worker.postMessage({ id, type: 'pause' });
      }
    } else if (m.type === 'credit') {
      inFlight -= m.bytes!;
      if (inFlight <= MAX_IN_FLIGHT && inputPaused) {
        inputPaused = false;
        input.resume();
      }
    } else if (m.type === 'end') {
      resolveDigest(m.digest!);
      finish();
      tar.push(null);
    } else {
      tar.destroy(m.corrupt ? invalidArgument(`layer blob is not valid ${kind} data (${m.message})`, 'the blob is corrupt; pull it again') : new Error(m.message));
    }
  });

  pooled.worker.postMessage({ id, type: 'start', kind });
  const send = (chunk: Buffer) => {
    const c = movable(chunk);
    inFlight += c.length;
    try {
      pooled.worker.postMessage({ id, type: 'data', chunk: c }, [c.buffer as ArrayBuffer]);
    } catch {
      pooled.worker.postMessage({ id, type: 'data', chunk: Buffer.from(c) }); // memory that may not move (Node's own pool)
    }
  };
  const onData = (chunk: Buffer) => {
    send(chunk);
    if (inFlight > MAX_IN_FLIGHT && !inputPaused) {
      inputPaused = true;
      input.pause();
    }
  };
  const onEnd = () => pooled.worker.postMessage({ id, type: 'end' });
  const onInputError = (err: Error) => tar.destroy(err);
  if (head.length > 0) send(head);
  input.on('data', onData);
  input.once('end', onEnd);
  input.once('error', onInputError);
  return { tar, digest };
}

/** The fallback: `plain` hashed on this thread as it flows. */
function hashHere(plain: Readable): InflatedLayer {
  const hash = createHash('sha256');
  let resolveDigest!: (d: string) => void;
  let rejectDigest!: (e: Error) => void;
  const digest = new Promise<string>((res, rej) => { resolveDigest = res; rejectDigest = rej; });
  digest.catch(() => undefined);
  const tar = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      resolveDigest(`sha256:${hash.digest('hex')}`);
      cb();
    },
  });
  plain.on('error', (err) => tar.destroy(err));
  tar.on('error', rejectDigest);
  tar.on('close', () => { plain.destroy(); rejectDigest(new Error('the tar stream was closed')); });
  plain.pipe(tar);
  return { tar, digest };
}

async function* prepend(head: Buffer, rest: Readable): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  for await (const chunk of rest) yield chunk as Buffer;
}
