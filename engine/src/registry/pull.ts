// Pulling one image into the ContentStore and the Snapshotter (engine.md §2.1):
//
//   manifest (or index -> platform manifest) -> config -> layers, 3 at a time, each one pipeline:
//   GET (Range to resume) -> hash + ingest -> gunzip -> hash diff ID -> unpack into a staging dir
//
// Every layer streams: the event loop downloads, hashes and ingests the blob and hands its bytes to a
// layer worker thread, which inflates (ISA-L), hashes the diff ID and unpacks into a staging dir
// (Snapshotter.stageBlob; layers/layerWorkers.ts), so network, CPU and disk overlap and separate
// layers use separate cores. A staged layer is committed only after its blob committed (size and
// digest checked) and its diff ID matched, and only after its parent committed, so nothing
// unverified is ever visible and the chain appears bottom up. A snapshotter with stageLayer only gets
// the tar inflated on a worker; one with neither gets applyLayer in chain order, with the diff ID
// checked before the tar ends. A broken download resumes from what the ingest holds. Two pulls of the
// same content in this process share one download and one unpack (the in-flight map); across
// processes the ingest ref lock makes the second wait for the first.
import { performance } from 'node:perf_hooks';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { SiloError, failedPrecondition, invalidArgument, isKind } from '../errors';
import { chainIDs } from '../image/chainid';
import { shortId } from '../image/digest';
import { parseBoundedJson } from '../image/json';
import type { Reference } from '../image/reference';
import type { LayerRecord } from '../image/store';
import type { Descriptor, DockerImageConfig, Manifest } from '../image/types';
import { inflateAndHash } from '../layers/layerWorkers';
import type { Snapshotter, StagedLayer } from '../layers/snapshotter';
import type { ContentStore, ContentWriter } from '../store/content';
import type { RegistryClient } from './client';
import { MAX_MANIFEST_BYTES, parseManifestDocument } from './manifest';
import { selectManifest, type WantedPlatform } from './platform';

/**
 * A layer's phases, as docker reports them: waiting (docker's "Pulling fs layer"), queued ("Waiting": no
 * download slot yet), downloading, verifying ("Verifying Checksum"), downloaded ("Download complete"),
 * extracting, complete ("Pull complete"), exists ("Already exists").
 */
export type PullPhase = 'waiting' | 'queued' | 'downloading' | 'verifying' | 'downloaded' | 'extracting' | 'complete' | 'exists';

export interface LayerProgress {
  /** The layer's short ID (12 hex digits of its blob digest), as docker prints it. */
  id: string;
  phase: PullPhase;
  /** Bytes downloaded (downloading) so far. */
  current?: number;
  total?: number;
  /** On 'complete', where the layer's time went, when the snapshotter measured it (Windows imports). */
  timings?: LayerTimings;
}

/** Milliseconds per stage of one layer; stages overlap. networkMs: waiting for the registry's bytes. */
export type LayerTimings = { networkMs: number } & Partial<Record<'decompressMs' | 'writeMs' | 'importMs' | 'processMs' | 'totalMs', number>>;

export interface PullOptions {
  platform: WantedPlatform;
  /** The OS whose layers this host can unpack; other images are stored but not unpacked. */
  hostOs: string;
  /** Parallel layer downloads (moby and containerd default 3). */
  concurrency?: number;
  onProgress?: (p: LayerProgress) => void;
}

export interface PulledImage {
  /** The digest of the document the reference named (index or manifest): the RepoDigest. */
  digest: string;
  manifest: Descriptor;
  config: Descriptor;
  configJson: DockerImageConfig;
  layers: LayerRecord[];
  /** Whether layers were unpacked (false for a foreign-OS image, stored only). */
  unpacked: boolean;
  /** Blobs this pull wrote (for clean-up of a failed publish). */
  fresh: string[];
}

/** Downloaded bytes are written to the ingest and passed on in pieces of about this size. */
const WRITE_PIECE = 1 << 20;

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Lets what flows through pass and, at the end, runs `check` before letting the end through. */
function verifying(check: () => Promise<void>): Transform {
  return new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb) {
      cb(null, chunk);
    },
    flush(cb) {
      check().then(() => cb(), (err) => cb(err as Error));
    },
  });
}

export class Puller {
  private readonly downloads = new Map<string, Promise<void>>();
  private readonly inflight = new Map<string, Promise<number | undefined>>();

  constructor(
    private readonly content: ContentStore,
    private readonly snapshotter: Snapshotter,
  ) {}

  async pull(client: RegistryClient, ref: Reference, opts: PullOptions): Promise<PulledImage> {
    const name = `${ref.domain}/${ref.path}`;
    const reference = ref.digest ?? ref.tag ?? 'latest';
    const fresh: string[] = [];
    const top = await client.getManifest(ref.path, reference);
    let doc = parseManifestDocument(top.bytes, top.contentType, `manifest ${name}:${reference}`);
    let manifestBytes = top.bytes;
    let manifestDesc: Descriptor = { mediaType: doc.mediaType, digest: top.digest, size: top.bytes.length };
    if (doc.kind === 'index') {
      const chosen = selectManifest(doc.index, opts.platform, `${name}:${reference}`);
      const m = await client.getManifest(ref.path, chosen.digest);
      if (m.bytes.length !== chosen.size) throw invalidArgument(`manifest ${chosen.digest} is ${m.bytes.length} bytes, the index says ${chosen.size}`);
      doc = parseManifestDocument(m.bytes, m.contentType ?? chosen.mediaType, `manifest ${name}@${chosen.digest}`);
      if (doc.kind !== 'manifest') throw invalidArgument(`the entry ${chosen.digest} of ${name}:${reference} is another index, not an image manifest`);
      manifestBytes = m.bytes;
      manifestDesc = { mediaType: doc.mediaType, digest: m.digest, size: m.bytes.length };
    }
    const manifest: Manifest = doc.manifest;

    // Config: small, fetched whole, verified by the ContentStore commit.
    const configKnown = await this.content.has(manifest.config.digest);
    if (!configKnown) {
      if (manifest.config.size > MAX_MANIFEST_BYTES) throw invalidArgument(`config ${manifest.config.digest} is ${manifest.config.size} bytes, more than the ${MAX_MANIFEST_BYTES} allowed`);
      await this.download(client, ref.path, manifest.config, () => undefined);
      fresh.push(manifest.config.digest);
    }
    const configJson = parseBoundedJson<DockerImageConfig>(await this.content.read(manifest.config.digest), `config ${manifest.config.digest}`);
    const diffIDs = configJson.rootfs?.diff_ids;
    if (!Array.isArray(diffIDs) || diffIDs.length !== manifest.layers.length) {
      throw invalidArgument(`config ${manifest.config.digest} lists ${Array.isArray(diffIDs) ? diffIDs.length : 'no'} diff IDs for ${manifest.layers.length} layers`, 'the image in the registry is malformed');
    }
    if (configJson.os !== opts.platform.os || configJson.architecture !== opts.platform.architecture) {
      throw failedPrecondition(`image ${name}:${reference} is ${configJson.os}/${configJson.architecture}, not the ${opts.platform.os}/${opts.platform.architecture} asked for`, 'choose the platform with --platform');
    }
    const chains = chainIDs(diffIDs);
    const unpack = configJson.os === opts.hostOs;

    // Layers: at most `concurrency` pipelines at once; commits chain bottom up.
    const layers: LayerRecord[] = manifest.layers.map((blob, i) => ({ diffID: diffIDs[i], chainID: chains[i], blob }));
    // docker says nothing per layer of an image it has (moby pulls no layer once the config is in its store).
    const have = configKnown && (await Promise.all(layers.map(async (l) => (!unpack || (await this.snapshotter.hasLayer(l.chainID))) && this.content.has(l.blob.digest)))).every(Boolean);
    const slots = new Slots(Math.max(1, opts.concurrency ?? 3));
    const sizes: Array<Promise<number | undefined>> = [];
    for (const [i, l] of layers.entries()) {
      const onProgress = (p: Omit<LayerProgress, 'id'>) => { if (!have) opts.onProgress?.({ id: shortId(l.blob.digest), ...p }); };
      onProgress({ phase: 'waiting' });
      const parent = i === 0 ? undefined : { chainID: chains[i - 1], committed: sizes[i - 1] };
      sizes.push(this.layer(client, ref.path, l, unpack, parent, slots, onProgress, fresh));
    }
    const results = await Promise.allSettled(sizes);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    if (!(await this.content.has(manifestDesc.digest))) {
      await this.content.ingest(manifestBytes, { digest: manifestDesc.digest, size: manifestDesc.size });
      fresh.push(manifestDesc.digest);
    }
    return {
      digest: top.digest,
      manifest: manifestDesc,
      config: manifest.config,
      configJson,
      layers: layers.map((l, i) => {
        const size = (results[i] as PromiseFulfilledResult<number | undefined>).value;
        return size !== undefined ? { ...l, size } : l;
      }),
      unpacked: unpack,
      fresh,
    };
  }

  /**
   * One layer, shared by concurrent pulls in this process: its blob in the ContentStore and (when
   * `unpack`) its chain ID committed in the Snapshotter. Resolves to the unpacked (tar) size, or
   * undefined when both were already there.
   */
  private layer(client: RegistryClient, repo: string, l: LayerRecord, unpack: boolean, parent: { chainID: string; committed: Promise<unknown> } | undefined, slots: Slots, onProgress: Progress, fresh: string[]): Promise<number | undefined> {
    const key = unpack ? `unpack ${l.chainID}` : `verify ${l.blob.digest}`;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.layerOnce(client, repo, l, unpack, parent, slots, onProgress, fresh).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    } else {
      // The other pull reports the progress; this one shows the layer as done when it is.
      p.then(() => onProgress({ phase: 'complete' }), () => undefined);
    }
    return p;
  }

  private async layerOnce(client: RegistryClient, repo: string, l: LayerRecord, unpack: boolean, parent: { chainID: string; committed: Promise<unknown> } | undefined, slots: Slots, onProgress: Progress, fresh: string[]): Promise<number | undefined> {
    const haveLayer = unpack && (await this.snapshotter.hasLayer(l.chainID));
    if (haveLayer && (await this.content.has(l.blob.digest))) {
      onProgress({ phase: 'exists' });
      return undefined;
    }
    // Without stageBlob or stageLayer the unpack must wait for the parent before it starts (applyLayer needs it).
    const stageBlob = unpack && !haveLayer ? this.snapshotter.stageBlob?.bind(this.snapshotter) : undefined;
    const stage = unpack && !haveLayer ? this.snapshotter.stageLayer?.bind(this.snapshotter) : undefined;
    if (unpack && !haveLayer && !stage && !stageBlob) await parent?.committed;
    let staged: StagedLayer | undefined;
    let size: number | undefined;
    let timings: LayerTimings | undefined;
    const net = { ms: 0 };
    await slots.take(() => onProgress({ phase: 'queued' }));
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const result = stageBlob
            ? { staged: await this.stageBlob(client, repo, l, attempt === 0, onProgress, fresh, stageBlob, net), size: undefined }
            : await this.stream(client, repo, l, attempt === 0, onProgress, fresh, async (tar) => {
              if (stage) return { staged: await stage(tar) };
              if (unpack && !haveLayer) {
                const applied: { size: number; timings?: Omit<LayerTimings, 'networkMs'> } = await this.snapshotter.applyLayer(l.chainID, parent?.chainID, tar);
                if (applied.timings) timings = { ...applied.timings, networkMs: 0 };
                return { size: applied.size };
              }
              return { size: await drain(tar) };
            }, net);
          staged = result.staged;
          // A layer already unpacked keeps the size its snapshotter recorded; this pull only fetched its blob.
          size = haveLayer ? undefined : result.staged?.size ?? result.size;
          break;
        } catch (err) {
          // Bad content stays bad: only a broken streamed transfer is tried again, resuming from
          // what the ingest kept and unpacking from the verified blob.
          if (attempt > 0 || !isKind(err, 'Unavailable')) throw err;
        }
      }
    } finally {
      slots.release();
    }
    if (staged) {
      try {
        await parent?.committed;
        // With a byte count, as docker's (its CLI shows a message with progress only on a terminal).
        onProgress({ phase: 'extracting', current: l.blob.size, total: l.blob.size });
        size = (await staged.commit(l.chainID, parent?.chainID)).size;
      } catch (err) {
        await staged.discard();
        throw err;
      }
    }
    if (timings) {
      const t: LayerTimings = { networkMs: Math.round(net.ms) };
      for (const k of ['decompressMs', 'writeMs', 'importMs', 'processMs', 'totalMs'] as const) if (typeof timings[k] === 'number') t[k] = Math.round(timings[k]);
      timings = t;
    }
    onProgress({ phase: 'complete', ...(timings ? { timings } : {}) });
    return size;
  }

  /**
   * The layer's blob as it arrives: from the registry while it downloads (the first try with an empty
   * ingest), else from the blob once it is complete and committed. `commitBlob` checks and commits a
   * streamed download (after `fillDone`).
   */
  private async source(client: RegistryClient, repo: string, l: LayerRecord, live: boolean, onProgress: Progress, fresh: string[], net?: { ms: number }): Promise<BlobSource> {
    const w = (await this.content.has(l.blob.digest)) ? undefined : await this.openIngest(l.blob);
    let committed = !w;
    if (w && (!live || w.offset > 0)) {
      // A resumed ingest cannot be streamed from its middle: finish it, then read the verified blob.
      await this.fill(client, repo, l.blob, w, onProgress, undefined, net);
      onProgress({ phase: 'verifying' });
      await w.commit({ digest: l.blob.digest, size: l.blob.size });
      fresh.push(l.blob.digest);
      committed = true;
      onProgress({ phase: 'downloaded' });
    }
    let compressed: Readable;
    let fillDone: Promise<void> = Promise.resolve();
    if (w && !committed) {
      const pipe = new PassThrough({ highWaterMark: 1 << 20 });
      compressed = pipe;
      const stopped = new AbortController();
      pipe.once('close', () => stopped.abort());
      // Backpressure: the download waits for the unpack, so nothing piles up in memory.
      fillDone = this.fill(client, repo, l.blob, w, onProgress, (chunk) => {
        if (pipe.destroyed) return Promise.reject(new SiloError('Canceled', 'the unpack stopped'));
        return pipe.write(chunk) ? Promise.resolve() : waitDrain(pipe);
      }, net, stopped.signal).then(async () => {
        pipe.end();
      }, (err) => {
        pipe.destroy(err as Error);
        throw err;
      });
      fillDone.catch(() => undefined);
    } else {
      onProgress({ phase: 'extracting', current: 0, total: l.blob.size });
      compressed = this.content.createReadStream(l.blob.digest);
    }
    return {
      compressed,
      fillDone,
      committed: () => committed,
      commitBlob: async () => {
        if (committed || !w) return;
        // The whole blob went through: check it before anything made from it counts.
        await fillDone;
        onProgress({ phase: 'verifying' });
        await w.commit({ digest: l.blob.digest, size: l.blob.size });
        committed = true;
        fresh.push(l.blob.digest);
        onProgress({ phase: 'downloaded' });
      },
      abandon: async (err) => {
        compressed.destroy();
        // The download stops with the unpack; its own failure explains more, unless it only stopped.
        const fillErr = await fillDone.then(() => undefined, (e: unknown) => e);
        if (w && !committed) await w.close().catch(() => undefined);
        return fillErr !== undefined && !isKind(fillErr, 'Canceled') ? fillErr : err;
      },
    };
  }

  /**
   * The layer's tar, verified, into `sink` (layers/layerWorkers.ts inflates and hashes it on a worker).
   * The tar stream fails instead of ending when the diff ID or (while streaming) the blob does not
   * match, and `sink`'s result counts only after both checks passed.
   */
  private async stream<T>(client: RegistryClient, repo: string, l: LayerRecord, live: boolean, onProgress: Progress, fresh: string[], sink: (tar: Readable) => Promise<T>, net?: { ms: number }): Promise<T> {
    const src = await this.source(client, repo, l, live, onProgress, fresh, net);
    let diffID: Promise<string> | undefined;
    const tar = verifying(async () => {
      await src.commitBlob();
      const got = await diffID;
      if (got !== l.diffID) throw diffIDMismatch(l, got);
    });
    try {
      const inflated = await inflateAndHash(src.compressed);
      diffID = inflated.digest;
      const plain = inflated.tar;
      plain.on('error', (err) => tar.destroy(err));
      tar.on('error', () => plain.destroy());
      const [result] = await Promise.all([sink(plain.pipe(tar)), src.fillDone, finished(tar)]);
      if (!src.committed()) throw new SiloError('Internal', `layer ${l.blob.digest} was unpacked before it was verified`);
      return result;
    } catch (err) {
      tar.destroy();
      throw await src.abandon(err);
    }
  }

  /**
   * The layer's blob staged by the snapshotter itself (stageBlob: inflated, hashed and unpacked off
   * the event loop), returned only once the blob is committed and the diff ID matched; discarded
   * otherwise.
   */
  private async stageBlob(client: RegistryClient, repo: string, l: LayerRecord, live: boolean, onProgress: Progress, fresh: string[], stage: NonNullable<Snapshotter['stageBlob']>, net?: { ms: number }): Promise<StagedLayer> {
    const src = await this.source(client, repo, l, live, onProgress, fresh, net);
    const staging = stage(src.compressed);
    try {
      const [staged] = await Promise.all([staging, src.fillDone]);
      await src.commitBlob();
      if (staged.diffID !== l.diffID) throw diffIDMismatch(l, staged.diffID);
      return staged;
    } catch (err) {
      const thrown = await src.abandon(err);
      // Settled only once the worker stopped writing: a failed stage removed its own files.
      await (await staging.catch(() => undefined))?.discard();
      throw thrown;
    }
  }

  /**
   * Downloads one blob into the ContentStore, resuming an earlier partial ingest of it; shared by
   * concurrent pulls in this process, and waiting for a pull in another process that holds it.
   */
  private download(client: RegistryClient, repo: string, desc: Descriptor, onProgress: (p: Omit<LayerProgress, 'id'>) => void): Promise<void> {
    let p = this.downloads.get(desc.digest);
    if (!p) {
      p = this.downloadOnce(client, repo, desc, onProgress).finally(() => this.downloads.delete(desc.digest));
      this.downloads.set(desc.digest, p);
    }
    return p;
  }

  private async openIngest(desc: Descriptor): Promise<ContentWriter | undefined> {
    for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
      if (await this.content.has(desc.digest)) return undefined;
      try {
        return await this.content.openWriter(`pull-${desc.digest}`);
      } catch (err) {
        if (!isKind(err, 'Unavailable')) throw err;
        await delay(wait); // another process downloads it: wait for its commit (or its failure)
      }
    }
  }

  private async downloadOnce(client: RegistryClient, repo: string, desc: Descriptor, onProgress: (p: Omit<LayerProgress, 'id'>) => void): Promise<void> {
    const w = await this.openIngest(desc);
    if (!w) return;
    await this.fill(client, repo, desc, w, onProgress);
    onProgress({ phase: 'verifying' });
    await w.commit({ digest: desc.digest, size: desc.size });
  }

  /** Writes the rest of a blob into `w`, resuming after dropped connections (5 attempts). On failure the ingest is kept for a later resume. */
  private async fill(client: RegistryClient, repo: string, desc: Descriptor, w: ContentWriter, onProgress: (p: Omit<LayerProgress, 'id'>) => void, through?: (chunk: Buffer) => Promise<void>, net?: { ms: number }, cancel?: AbortSignal): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= 5; attempt++) {
      if (w.offset > desc.size) await w.truncate();
      if (w.offset === desc.size) return;
      let res;
      // The socket's 64 KB reads go on in pieces of about 1 MB: a sixteenth of the ingest writes
      // (each a thread-pool round trip) and of the messages to the inflate worker.
      let batch: Buffer[] = [];
      let batched = 0;
      const take = () => {
        const piece = batch.length === 1 ? batch[0] : Buffer.concat(batch, batched);
        batch = [];
        batched = 0;
        return piece;
      };
      try {
        const opened = await client.openBlob(repo, desc, w.offset);
        if (opened.start !== w.offset) {
          if (through) throw new SiloError('Unavailable', 'the source cannot resume a streamed layer');
          await w.truncate();
        }
        res = opened.res;
        // The unpack it feeds stopped: the download stops now, not at the next chunk.
        const body = res.body;
        if (cancel?.aborted) body.destroy(new SiloError('Canceled', 'the unpack stopped'));
        cancel?.addEventListener('abort', () => body.destroy(new SiloError('Canceled', 'the unpack stopped')), { once: true });
        onProgress({ phase: 'downloading', current: w.offset, total: desc.size });
        let last = 0;
        let waiting = performance.now();
        const flush = async () => {
          if (batched === 0) return;
          const piece = take();
          await w.write(piece);
          if (through) await through(piece);
        };
        for await (const chunk of res.body) {
          if (net) net.ms += performance.now() - waiting;
          if (w.offset + batched + (chunk as Buffer).length > desc.size) {
            res.body.destroy();
            throw invalidArgument(`blob ${desc.digest} is longer than the ${desc.size} bytes its descriptor says`, 'the registry serves corrupt content');
          }
          batch.push(chunk as Buffer);
          batched += (chunk as Buffer).length;
          if (batched >= WRITE_PIECE) await flush();
          const now = Date.now();
          if (now - last > 100) {
            last = now;
            onProgress({ phase: 'downloading', current: w.offset, total: desc.size });
          }
          waiting = performance.now();
        }
        await flush();
        onProgress({ phase: 'downloading', current: w.offset, total: desc.size });
        if (w.offset === desc.size) return;
        lastError = new SiloError('Unavailable', `the connection ended after ${w.offset} of ${desc.size} bytes of ${desc.digest}`);
      } catch (err) {
        if (isKind(err, 'InvalidArgument') || isKind(err, 'NotFound') || isKind(err, 'PermissionDenied') || isKind(err, 'Canceled')) {
          await w.abort();
          throw err;
        }
        lastError = err;
        // What arrived before the connection broke is kept, so the next request resumes after it.
        if (batched > 0) await w.write(take()).catch(() => undefined);
      }
      if (through) break; // a streamed unpack cannot skip what it already consumed: let the caller fall back
      await delay(200 * 2 ** (attempt - 1));
    }
    await w.close();
    const msg = lastError instanceof Error ? lastError.message : String(lastError);
    throw new SiloError('Unavailable', `downloading ${desc.digest} failed: ${msg}`, 'pull again to resume where it stopped');
  }
}

type Progress = (p: Omit<LayerProgress, 'id'>) => void;

interface BlobSource {
  compressed: Readable;
  /** Settles when the download (if any) ended; rejects with its error. */
  fillDone: Promise<void>;
  committed(): boolean;
  commitBlob(): Promise<void>;
  /**
   * Stops reading and downloading after `err` ended what read the blob, keeping a broken download's
   * ingest for a resume; returns the error to throw: the download's own, when it failed for itself.
   */
  abandon(err: unknown): Promise<unknown>;
}

function diffIDMismatch(l: LayerRecord, got: string | undefined): SiloError {
  return invalidArgument(`layer ${l.blob.digest} unpacks to diff ID ${got}, not the ${l.diffID} its config says`, 'the image in the registry is corrupt');
}

/** A counting semaphore: at most `limit` holders at once, served first come first served. */
class Slots {
  private running = 0;
  private readonly queue: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  /** A slot; `onWait` hears when none is free at once. */
  async take(onWait?: () => void): Promise<void> {
    if (this.running >= this.limit) {
      onWait?.();
      await new Promise<void>((r) => this.queue.push(r));
    } else {
      this.running++;
    }
  }
  release(): void {
    const next = this.queue.shift();
    if (next) next(); // the slot passes straight to the next holder
    else this.running--;
  }
}

function waitDrain(s: PassThrough): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      s.off('drain', done);
      s.off('close', done);
      resolve();
    };
    s.on('drain', done);
    s.on('close', done);
  });
}

/** Reads a stream to its end; returns how many bytes went through. */
async function drain(s: Readable): Promise<number> {
  let n = 0;
  for await (const chunk of s) n += (chunk as Buffer).length;
  return n;
}
