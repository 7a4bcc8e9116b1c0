// The main side of the layer workers (layers/layerWorker.ts): a layer blob's bytes go to a worker
// thread, which inflates and hashes them (the diff ID) and hands the tar back ('inflateAndHash') or
// unpacks it into a directory itself ('unpackInWorker'). The event loop keeps only the download and
// the blob ingest ("separate layers decompress on separate cores"); unpacking in the worker also keeps
// the tar's buffers, and the collections they cost, off it.
//
// Layers share workers, one per core (each isolate costs tens of milliseconds of CPU to start; idle
// ones exit). The blob's bytes move to the worker, not copied, where the buffer is the piece's alone.
// Credits bound what is in flight per layer: the download waits when the worker falls behind.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { SiloError } from '../errors';
import { decompressStream, readHead, sniffCompression } from './compression';
import type { ExtractLimits } from './extract';
import type { FromWorker, JobStart, ToWorker } from './layerWorker';

export interface InflatedLayer {
  /** The uncompressed layer tar. */
  tar: Readable;
  /** "sha256:<hex>" of everything `tar` carried; settles before `tar` ends (or when it fails). */
  digest: Promise<string>;
}

/** Bytes of one layer sent to the worker and not yet taken in by its inflater: beyond this the input waits. */
const MAX_IN_FLIGHT = 4 << 20;
/** Idle workers exit after this long. */
const IDLE_MS = 10_000;

/** A new layer worker: the bundle beside this one (dist/), or the source through tsx (tests, bench). */
function newWorker(): Worker {
  const bundled = path.join(__dirname, 'silo-layer-worker.js');
  if (existsSync(bundled)) return new Worker(bundled, { stdout: false, stderr: false });
  const source = path.join(__dirname, 'layerWorker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true, stdout: false, stderr: false });
}

interface PoolWorker {
  worker: Worker;
  jobs: Map<number, (m: FromWorker) => void>;
  idleTimer?: NodeJS.Timeout;
}

const pool: PoolWorker[] = [];
let nextJob = 1;
const poolSize = Math.max(1, Math.min(4, availableParallelism()));

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
    const worker = newWorker();
    const created: PoolWorker = { worker, jobs: new Map() };
    worker.on('message', (m: FromWorker) => created.jobs.get(m.id)?.(m));
    worker.on('error', (err) => failAll(created, err));
    worker.on('exit', () => failAll(created, new Error('the layer worker stopped')));
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

/** The error a worker reported, as the engine's own when it was one. */
function errorOf(m: Extract<FromWorker, { type: 'error' }>): Error {
  return m.kind ? new SiloError(m.kind, m.message, m.hint) : new Error(m.message);
}

interface Job {
  worker: PoolWorker;
  id: number;
  /** Stops the input (after an error or a stop). */
  stop(): void;
}

/**
 * Feeds `input` (its first bytes `head` already read) to a new job on a worker, with credit-based
 * backpressure; `onMessage` gets the worker's other messages, `onInputError` the input's failure (or
 * its close before its end). The input's chunks are taken: their memory may move to the worker.
 */
function startJob(input: Readable, head: Buffer, start: JobStart, onMessage: (m: FromWorker) => void, onInputError: (err: Error) => void): Job {
  const w = takeWorker();
  const id = nextJob++;
  let inFlight = 0;
  let inputPaused = false;
  let stopped = false;
  const send = (m: ToWorker, transfer?: ArrayBuffer[]) => w.worker.postMessage(m, transfer);
  const onData = (chunk: Buffer) => {
    const c = movable(chunk);
    inFlight += c.length;
    try {
      send({ id, type: 'data', chunk: c }, [c.buffer as ArrayBuffer]);
    } catch {
      send({ id, type: 'data', chunk: Buffer.from(c) }); // memory that may not move (Node's own pool)
    }
    if (inFlight > MAX_IN_FLIGHT && !inputPaused) {
      inputPaused = true;
      input.pause();
    }
  };
  let ended = false;
  const onEnd = () => {
    ended = true;
    send({ id, type: 'end' });
  };
  const onError = (err: Error) => {
    if (!stopped) onInputError(err);
  };
  const onClose = () => {
    if (!ended && !stopped) onInputError(new Error('the layer blob stopped before its end'));
  };
  const job: Job = {
    worker: w,
    id,
    stop() {
      if (stopped) return;
      stopped = true;
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      input.off('close', onClose);
      input.on('error', () => undefined); // what it says after the stop is no one's concern
      send({ id, type: 'stop' });
      input.destroy();
    },
  };
  w.jobs.set(id, (m) => {
    if (m.type === 'credit') {
      inFlight -= m.bytes;
      if (inFlight <= MAX_IN_FLIGHT && inputPaused && !stopped) {
        inputPaused = false;
        input.resume();
      }
      return;
    }
    onMessage(m);
  });
  send({ id, ...start });
  if (head.length > 0) onData(head);
  input.on('data', onData);
  if (input.readableEnded) onEnd(); // readHead saw it all
  else input.once('end', onEnd);
  input.once('error', onError);
  input.once('close', onClose);
  return job;
}

/**
 * Inflates the layer blob read from `input` (gzip, zstd or plain) and hashes the tar, off the event
 * loop. The tar fails, never ends early, when the blob is corrupt (InvalidArgument) or `input` fails
 * (with its error). Destroying the tar stops the work. `zlib` forces zlib for gzip (tests).
 */
export async function inflateAndHash(input: Readable, opts: { zlib?: boolean } = {}): Promise<InflatedLayer> {
  const head = await readHead(input, 4);
  const kind = sniffCompression(head);
  let digestOf!: { resolve: (d: string) => void; reject: (e: Error) => void };
  const digest = new Promise<string>((resolve, reject) => { digestOf = { resolve, reject }; });
  digest.catch(() => undefined);
  let job: Job | undefined;
  let done = false;
  let paused = false;
  const tar = new Readable({
    highWaterMark: 4 << 20,
    read() {
      if (paused && !done && job) {
        paused = false;
        job.worker.worker.postMessage({ id: job.id, type: 'resume' } satisfies ToWorker);
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
    if (err) {
      digestOf.reject(err);
      job?.stop();
    }
    if (job) release(job.worker, job.id);
  };
  try {
    job = startJob(input, head, { type: 'start', job: 'inflate', kind, zlib: opts.zlib }, (m) => {
      if (done) return;
      if (m.type === 'data') {
        const c = m.chunk;
        if (!tar.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength)) && !paused) {
          paused = true;
          job!.worker.worker.postMessage({ id: job!.id, type: 'pause' } satisfies ToWorker);
        }
      } else if (m.type === 'end') {
        digestOf.resolve(m.digest);
        finish();
        tar.push(null);
      } else if (m.type === 'error') {
        tar.destroy(errorOf(m));
      }
    }, (err) => tar.destroy(err));
  } catch {
    // no worker to be had (a resource limit): the same work on this thread
    return hashHere(await decompressStream(Readable.from(prepend(head, input))));
  }
  return { tar, digest };
}

/**
 * Inflates, hashes and unpacks the layer blob read from `input` into the directory `dir`, on a worker
 * (extract.ts there, with the host's special files). Resolves with the tar's digest (the diff ID) and
 * what extractLayer counted; rejects with the first error (the input's, the blob's, the tar's) only
 * once the worker stopped writing into `dir`, so the caller may delete it then.
 */
export async function unpackInWorker(input: Readable, dir: string, opts: { whiteouts: 'overlay' | 'apply'; limits?: ExtractLimits; zlib?: boolean }): Promise<{ digest: string; entries: number; bytes: number }> {
  const head = await readHead(input, 4);
  const kind = sniffCompression(head);
  return new Promise((resolve, reject) => {
    let inputError: Error | undefined;
    let job: Job | undefined;
    const settle = (err: Error | undefined, result?: { digest: string; entries: number; bytes: number }) => {
      if (job) {
        if (err) job.stop(); // the worker has stopped: the input goes nowhere now
        release(job.worker, job.id);
      }
      if (err) reject(inputError ?? err);
      else resolve(result!);
    };
    const onInputError = (err: Error) => {
      inputError ??= err;
      job?.stop(); // the worker answers with an error once it stopped
    };
    job = startJob(input, head, { type: 'start', job: 'unpack', kind, zlib: opts.zlib, dir, whiteouts: opts.whiteouts, limits: opts.limits }, (m) => {
      if (m.type === 'done') settle(undefined, { digest: m.digest, entries: m.entries, bytes: m.bytes });
      else if (m.type === 'error') settle(errorOf(m));
    }, onInputError);
  });
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
