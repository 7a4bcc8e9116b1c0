// Pulling one image into the ContentStore and the Snapshotter (engine.md §2.1):
//
//   manifest (or index -> platform manifest) -> config -> layers, 3 at a time
//   layer: GET (Range to resume) -> hash into an ingest -> commit (size and digest checked)
//          -> decompress -> hash diff ID -> applyLayer, bottom up
//
// A layer whose parent is already unpacked when its download starts is unpacked while it downloads
// (network, gunzip and disk overlap; separate layers inflate on separate libuv threads). Its tar
// stream ends only after the blob committed and the diff ID matched, so the Snapshotter never
// publishes a layer whose bytes were not verified. Others download first and unpack from the
// verified blob as soon as their parent is in place. A broken download resumes from what the ingest
// holds. Two pulls of the same content in this process share one download and one unpack (the
// in-flight maps); across processes the ingest ref lock makes the second wait for the first.
import { createHash } from 'node:crypto';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SiloError, failedPrecondition, invalidArgument, isKind } from '../errors';
import { chainIDs } from '../image/chainid';
import { shortId } from '../image/digest';
import { parseBoundedJson } from '../image/json';
import type { Reference } from '../image/reference';
import type { LayerRecord } from '../image/store';
import type { Descriptor, DockerImageConfig, Manifest } from '../image/types';
import { openLayerTar } from '../image/unpack';
import { decompressStream } from '../layers/compression';
import type { Snapshotter } from '../layers/snapshotter';
import type { ContentStore, ContentWriter } from '../store/content';
import type { RegistryClient } from './client';
import { MAX_MANIFEST_BYTES, parseManifestDocument } from './manifest';
import { selectManifest, type WantedPlatform } from './platform';

export type PullPhase = 'waiting' | 'downloading' | 'verifying' | 'extracting' | 'complete' | 'exists';

export interface LayerProgress {
  /** The layer's short ID (12 hex digits of its blob digest), as docker prints it. */
  id: string;
  phase: PullPhase;
  /** Bytes downloaded (downloading) so far. */
  current?: number;
  total?: number;
}

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

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Hashes what flows through and, at the end, runs `check` before letting the end through. */
function verifying(hash: ReturnType<typeof createHash>, check: (digest: string) => Promise<void>): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      check(`sha256:${hash.digest('hex')}`).then(() => cb(), (err) => cb(err as Error));
    },
  });
}

export class Puller {
  private readonly downloads = new Map<string, Promise<void>>();
  private readonly unpacks = new Map<string, Promise<number>>();

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
    if (!(await this.content.has(manifest.config.digest))) {
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

    // Layers: at most `concurrency` downloads; unpacks chain bottom up.
    const layers: LayerRecord[] = manifest.layers.map((blob, i) => ({ diffID: diffIDs[i], chainID: chains[i], blob }));
    const sizes: Array<number | undefined> = layers.map(() => undefined);
    const limit = Math.max(1, opts.concurrency ?? 3);
    let running = 0;
    const queue: Array<() => void> = [];
    const slot = async () => {
      if (running >= limit) await new Promise<void>((r) => queue.push(r));
      running++;
    };
    const release = () => {
      running--;
      queue.shift()?.();
    };
    const done: Array<Promise<void>> = [];
    const unpacked: Array<Promise<void>> = [];
    const progress = (l: LayerRecord, p: Omit<LayerProgress, 'id'>) => opts.onProgress?.({ id: shortId(l.blob.digest), ...p });

    for (const [i, l] of layers.entries()) {
      progress(l, { phase: 'waiting' });
      const parentDone = i === 0 ? Promise.resolve() : unpacked[i - 1];
      let parentSettled = i === 0;
      void parentDone.then(() => (parentSettled = true), () => undefined);
      let streamedSize: number | undefined;
      const fetched = (async () => {
        if (await this.content.has(l.blob.digest)) {
          progress(l, { phase: 'exists' });
          return;
        }
        await slot();
        try {
          // Unpack while downloading when the parent is already in place and nobody else unpacks it.
          const stream = unpack && parentSettled && !this.unpacks.has(l.chainID) && !(await this.snapshotter.hasLayer(l.chainID));
          if (stream) {
            const p = this.streamUnpack(client, ref.path, l, i === 0 ? undefined : chains[i - 1], (q) => progress(l, q));
            this.unpacks.set(l.chainID, p);
            try {
              streamedSize = await p;
              fresh.push(l.blob.digest);
              return;
            } catch (err) {
              // Bad content stays bad: only a broken transfer falls back to download-then-unpack,
              // which resumes from what the ingest kept.
              if (!isKind(err, 'Unavailable')) throw err;
            } finally {
              this.unpacks.delete(l.chainID);
            }
          }
          await this.download(client, ref.path, l.blob, (q) => progress(l, q));
          fresh.push(l.blob.digest);
        } finally {
          release();
        }
      })();
      done.push(fetched);
      unpacked.push((async () => {
        await fetched;
        await parentDone;
        if (!unpack) {
          sizes[i] = await this.verifyDiffID(l, (q) => progress(l, q));
          progress(l, { phase: 'complete' });
          return;
        }
        sizes[i] = streamedSize ?? (await this.unpackFromBlob(l, i === 0 ? undefined : chains[i - 1], (q) => progress(l, q)));
        progress(l, { phase: 'complete' });
      })());
    }
    const results = await Promise.allSettled(unpacked);
    await Promise.allSettled(done);
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
      layers: layers.map((l, i) => (sizes[i] !== undefined ? { ...l, size: sizes[i] } : l)),
      unpacked: unpack,
      fresh,
    };
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
  private async fill(client: RegistryClient, repo: string, desc: Descriptor, w: ContentWriter, onProgress: (p: Omit<LayerProgress, 'id'>) => void, through?: (chunk: Buffer) => Promise<void>): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= 5; attempt++) {
      if (w.offset > desc.size) await w.truncate();
      if (w.offset === desc.size) return;
      let res;
      try {
        const opened = await client.openBlob(repo, desc, w.offset);
        if (opened.start !== w.offset) {
          if (through) throw new SiloError('Unavailable', 'the source cannot resume a streamed layer');
          await w.truncate();
        }
        res = opened.res;
        onProgress({ phase: 'downloading', current: w.offset, total: desc.size });
        let last = 0;
        for await (const chunk of res.body) {
          if (w.offset + (chunk as Buffer).length > desc.size) {
            res.body.destroy();
            throw invalidArgument(`blob ${desc.digest} is longer than the ${desc.size} bytes its descriptor says`, 'the registry serves corrupt content');
          }
          await w.write(chunk as Buffer);
          if (through) await through(chunk as Buffer);
          const now = Date.now();
          if (now - last > 100) {
            last = now;
            onProgress({ phase: 'downloading', current: w.offset, total: desc.size });
          }
        }
        onProgress({ phase: 'downloading', current: w.offset, total: desc.size });
        if (w.offset === desc.size) return;
        lastError = new SiloError('Unavailable', `the connection ended after ${w.offset} of ${desc.size} bytes of ${desc.digest}`);
      } catch (err) {
        if (isKind(err, 'InvalidArgument') || isKind(err, 'NotFound') || isKind(err, 'PermissionDenied') || isKind(err, 'Canceled')) {
          await w.abort();
          throw err;
        }
        lastError = err;
      }
      if (through) break; // a streamed unpack cannot skip what it already consumed: let the caller fall back
      await delay(200 * 2 ** (attempt - 1));
    }
    await w.close();
    const msg = lastError instanceof Error ? lastError.message : String(lastError);
    throw new SiloError('Unavailable', `downloading ${desc.digest} failed: ${msg}`, 'pull again to resume where it stopped');
  }

  /** Download and unpack in one pass; the tar ends only after the blob committed and its diff ID matched. */
  private async streamUnpack(client: RegistryClient, repo: string, l: LayerRecord, parent: string | undefined, onProgress: (p: Omit<LayerProgress, 'id'>) => void): Promise<number> {
    const w = await this.openIngest(l.blob);
    if (!w) return this.unpackFromBlob(l, parent, onProgress);
    if (w.offset > 0) {
      // A resumed ingest cannot be streamed from its middle.
      await w.close();
      throw new SiloError('Unavailable', 'resume instead');
    }
    const compressed = new PassThrough({ highWaterMark: 1 << 20 });
    const diff = createHash('sha256');
    let committed = false;
    let fillError: unknown;
    const tar = verifying(diff, async (diffID) => {
      onProgress({ phase: 'verifying' });
      await w.commit({ digest: l.blob.digest, size: l.blob.size });
      committed = true;
      if (diffID !== l.diffID) throw invalidArgument(`layer ${l.blob.digest} unpacks to diff ID ${diffID}, not the ${l.diffID} its config says`, 'the image in the registry is corrupt');
    });
    // Backpressure: the download waits for the unpack, so nothing piles up in memory.
    const fillDone = this.fill(client, repo, l.blob, w, onProgress, async (chunk) => {
      if (compressed.destroyed) throw new SiloError('Canceled', 'the unpack stopped');
      if (!compressed.write(chunk)) {
        await new Promise<void>((resolve) => {
          compressed.once('drain', resolve);
          compressed.once('close', resolve);
        });
      }
    }).then(() => compressed.end(), (err) => {
      fillError = err;
      compressed.destroy(err as Error);
      throw err;
    });
    fillDone.catch(() => undefined);
    const applied = (async () => {
      const plain = await decompressStream(compressed);
      onProgress({ phase: 'extracting' });
      const out = plain.pipe(tar) as Readable;
      plain.on('error', (err) => tar.destroy(err));
      return this.snapshotter.applyLayer(l.chainID, parent, out);
    })();
    try {
      const [, { size }] = await Promise.all([fillDone, applied]);
      return size;
    } catch (err) {
      compressed.destroy();
      if (!committed) await w.close().catch(() => undefined);
      throw fillError ?? err;
    }
  }

  /** Unpacks a verified blob; the diff ID is checked before the Snapshotter publishes the layer. Shared by concurrent pulls. */
  private unpackFromBlob(l: LayerRecord, parent: string | undefined, onProgress: (p: Omit<LayerProgress, 'id'>) => void): Promise<number> {
    let p = this.unpacks.get(l.chainID);
    if (!p) {
      p = (async () => {
        if (await this.snapshotter.hasLayer(l.chainID)) return -1;
        onProgress({ phase: 'extracting' });
        const plain = await openLayerTar(this.content, l.blob);
        const tar = verifying(createHash('sha256'), async (diffID) => {
          if (diffID !== l.diffID) throw invalidArgument(`layer ${l.blob.digest} unpacks to diff ID ${diffID}, not the ${l.diffID} its config says`, 'the image in the registry is corrupt');
        });
        plain.on('error', (err) => tar.destroy(err));
        const { size } = await this.snapshotter.applyLayer(l.chainID, parent, plain.pipe(tar));
        return size;
      })().finally(() => this.unpacks.delete(l.chainID));
      this.unpacks.set(l.chainID, p);
    }
    return p.then((n) => (n < 0 ? undefined : n) as number);
  }

  /** A foreign-OS layer is not unpacked, but its diff ID is still checked against the config. Returns the tar's size. */
  private async verifyDiffID(l: LayerRecord, onProgress: (p: Omit<LayerProgress, 'id'>) => void): Promise<number> {
    onProgress({ phase: 'verifying' });
    const hash = createHash('sha256');
    let size = 0;
    await pipeline(await decompressStream(this.content.createReadStream(l.blob.digest)), new Transform({
      transform(chunk: Buffer, _e, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb();
      },
    }));
    const diffID = `sha256:${hash.digest('hex')}`;
    if (diffID !== l.diffID) throw invalidArgument(`layer ${l.blob.digest} has diff ID ${diffID}, not the ${l.diffID} its config says`, 'the image in the registry is corrupt');
    return size;
  }
}
