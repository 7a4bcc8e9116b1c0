// Image archives in and out: `docker save` tarballs (docker-archive, both the old `<id>/layer.tar`
// layout of Docker <= 24 and the `blobs/sha256/` layout of Docker >= 25) and OCI image layout
// tarballs (`skopeo copy ... oci-archive:`), read as one stream; and the one format both read back:
// manifest.json + repositories (for `docker load`, moby image/tarexport/load.go) beside oci-layout +
// index.json + blobs/sha256/ (OCI image-spec image-layout.md), as Docker 25 writes it.
//
// Reading never holds a layer in memory: every blob-like entry streams into a ContentStore ingest
// (hashed as written; gzip layers are also gunzipped and hashed on the side to learn their diff ID).
// Only after the whole archive is read and every digest, size and diff ID checks out does publish()
// rename the needed blobs into blobs/; discard() drops everything. Archive metadata is capped
// (4 MiB, 64 levels of JSON), and no entry or link may name a path outside the archive.
import { createHash, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable, Transform, Writable } from 'node:stream';
import * as zlib from 'node:zlib';
import * as tarStream from 'tar-stream';
import { invalidArgument, notImplemented, SiloError } from '../errors';
import { sniffCompression, type Compression } from '../layers/compression';
import type { ContentStore, ContentWriter } from '../store/content';
import { isSha256Digest, sha256Digest, sha256Hex } from './digest';
import { MAX_METADATA_BYTES, parseBoundedJson } from './json';
import { familiarName, formatReference, normalizeReference, type Reference } from './reference';
import type { ImageRecord } from './store';
import { MediaType, type Descriptor, type ImageConfig, type Index, type Manifest, type Platform } from './types';

/** Progress of a long load, for a progress bar: entries read, then layers unpacked. */
export type LoadProgress =
  | { phase: 'read'; entry: string; bytes: number }
  | { phase: 'unpack'; layer: string; index: number; total: number }
  | { phase: 'loaded'; id: string; names: string[] };


/** One image found in an archive, fully verified, its blobs not yet published. */
export interface ArchivedImage {
  config: Descriptor;
  configJson: ImageConfig;
  manifest: Descriptor;
  layers: Array<{ blob: Descriptor; diffID: string; compression: Compression }>;
  /** Fully normalised names ("docker.io/library/busybox:latest"). */
  names: string[];
}

export interface ArchiveContents {
  images: ArchivedImage[];
  /** Publishes every blob the images need into the ContentStore; returns the digests that were new. */
  publish(): Promise<string[]>;
  /** Drops every staged entry. Idempotent; a no-op after publish() for what was published. */
  discard(): Promise<void>;
}

const ARCHIVE_HINT = 'the archive is corrupt or not made by docker save, skopeo or silo save';

interface Staged {
  writer: ContentWriter;
  digest: string;
  size: number;
  compression: Compression;
  /** sha256 of the uncompressed bytes; undefined when they could not be decompressed here. */
  uncompressedDigest?: string;
  uncompressedError?: string;
}

/** A clean relative archive path, or a refusal for anything that could name a path outside it. */
function archivePath(name: string): string {
  if (name.startsWith('/') || name.includes('\\') || name.includes('\0')) {
    throw invalidArgument(`archive entry "${name}" is not a relative path inside the archive`, ARCHIVE_HINT);
  }
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw invalidArgument(`archive entry "${name}" escapes the archive`, ARCHIVE_HINT);
  return parts.join('/');
}

/** Entries read into memory (capped); everything else is staged on disk. */
function isMetadataName(p: string): boolean {
  return p === 'manifest.json' || p === 'repositories' || p === 'index.json' || p === 'oci-layout' || /^[a-f0-9]{64}\.json$/.test(p);
}

/** Entries of the old layout Silo does not need (`<id>/json`, `<id>/VERSION`): drained, not kept. */
function isIgnoredName(p: string): boolean {
  return /^[a-f0-9]{64}\/(json|VERSION)$/.test(p);
}


/** Resolves on `event` or on 'error' (recorded by the caller's error listener), leaving no listener behind. */
function settled(emitter: Transform, event: 'drain' | 'end'): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      emitter.off(event, done);
      emitter.off('error', done);
      resolve();
    };
    emitter.on(event, done);
    emitter.on('error', done);
  });
}

async function stage(entry: AsyncIterable<unknown>, content: ContentStore, name: string): Promise<Staged> {
  const writer = await content.openWriter(`load-${process.pid}-${randomUUID()}`);
  try {
    let head = Buffer.alloc(0);
    let compression: Compression | undefined;
    let gunzip: Transform | undefined;
    let uncompressedError: string | undefined;
    const uhash = createHash('sha256');
    // Decompress on the side to learn the diff ID in the same pass (zstd where Node has a decoder).
    const startGunzip = (kind: Compression) => {
      const zstd = (zlib as unknown as { createZstdDecompress?: () => Transform }).createZstdDecompress;
      if (kind === 'none' || (kind === 'zstd' && !zstd)) return;
      gunzip = kind === 'gzip' ? zlib.createGunzip() : zstd!();
      gunzip.on('data', (d: Buffer) => uhash.update(d));
      gunzip.on('error', (e) => {
        uncompressedError = e.message;
      });
    };
    const feed = async (chunk: Buffer) => {
      if (gunzip && !uncompressedError && !gunzip.write(chunk)) {
        await settled(gunzip, 'drain');
      }
    };
    for await (const c of entry) {
      const chunk = c as Buffer;
      await writer.write(chunk);
      if (compression === undefined) {
        head = Buffer.concat([head, chunk]);
        if (head.length < 4) continue;
        compression = sniffCompression(head);
        startGunzip(compression);
        await feed(head);
        continue;
      }
      await feed(chunk);
    }
    if (compression === undefined) {
      compression = sniffCompression(head);
      startGunzip(compression);
      if (head.length) await feed(head);
    }
    let uncompressedDigest: string | undefined;
    if (compression === 'none') {
      uncompressedDigest = writer.digest();
    } else if (gunzip) {
      const g: Transform = gunzip;
      if (!uncompressedError) {
        g.end();
        await settled(g, 'end');
      }
      if (!uncompressedError) uncompressedDigest = `sha256:${uhash.digest('hex')}`;
    } else {
      uncompressedError = 'zstd layers cannot be decompressed by this Node version';
    }
    return { writer, digest: writer.digest(), size: writer.offset, compression, uncompressedDigest, uncompressedError };
  } catch (err) {
    await writer.abort();
    if (err instanceof SiloError) throw err;
    throw invalidArgument(`cannot read archive entry ${name}: ${(err as Error).message}`, ARCHIVE_HINT);
  }
}

async function readSmall(entry: AsyncIterable<unknown>, name: string, declared: number): Promise<Buffer> {
  if (declared > MAX_METADATA_BYTES) throw invalidArgument(`archive entry ${name} is ${declared} bytes, more than the ${MAX_METADATA_BYTES} allowed`, ARCHIVE_HINT);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of entry) {
    total += (c as Buffer).length;
    if (total > MAX_METADATA_BYTES) throw invalidArgument(`archive entry ${name} is larger than ${MAX_METADATA_BYTES} bytes`, ARCHIVE_HINT);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The entries of an archive after reading: buffers, staged blobs, and links between paths. */
class ArchiveEntries {
  readonly meta = new Map<string, Buffer>();
  readonly staged = new Map<string, Staged>();
  readonly links = new Map<string, string>();

  resolve(p: string): string {
    let cur = archivePath(p);
    for (let i = 0; i < 16; i++) {
      const next = this.links.get(cur);
      if (next === undefined) return cur;
      cur = next;
    }
    throw invalidArgument(`archive entry ${p}: too many levels of links`, ARCHIVE_HINT);
  }

  has(p: string): boolean {
    const r = this.resolve(p);
    return this.meta.has(r) || this.staged.has(r);
  }

  async bytes(p: string, what: string): Promise<Buffer> {
    const r = this.resolve(p);
    const m = this.meta.get(r);
    if (m) return m;
    const s = this.staged.get(r);
    if (!s) throw invalidArgument(`${what} (${p}) is not in the archive`, ARCHIVE_HINT);
    return s.writer.contents(MAX_METADATA_BYTES);
  }

  stagedAt(p: string, what: string): Staged {
    const s = this.staged.get(this.resolve(p));
    if (!s) throw invalidArgument(`${what} (${p}) is not in the archive`, ARCHIVE_HINT);
    return s;
  }

  async json<T>(p: string, what: string): Promise<T> {
    return parseBoundedJson<T>(await this.bytes(p, what), what);
  }
}

function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: process.platform === 'win32' ? 'windows' : 'linux', architecture: arch[process.arch] ?? process.arch };
}

function layerMediaType(c: Compression): string {
  return c === 'gzip' ? MediaType.OciLayerGzip : c === 'zstd' ? MediaType.OciLayerZstd : MediaType.OciLayer;
}

const LAYER_TYPES = new Set<string>([
  MediaType.OciLayer,
  MediaType.OciLayerGzip,
  MediaType.OciLayerZstd,
  MediaType.OciLayerNondistributableGzip,
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  MediaType.DockerLayerGzip,
  MediaType.DockerForeignLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar',
]);
const MANIFEST_TYPES = new Set<string>([MediaType.OciManifest, MediaType.DockerManifest]);
const INDEX_TYPES = new Set<string>([MediaType.OciIndex, MediaType.DockerManifestList]);

function checkConfig(c: ImageConfig, what: string): void {
  if (typeof c !== 'object' || Array.isArray(c)) throw invalidArgument(`${what} is not a JSON object`, ARCHIVE_HINT);
  if (typeof c.os !== 'string' || typeof c.architecture !== 'string') throw invalidArgument(`${what} has no os or architecture`, ARCHIVE_HINT);
  const ids = c.rootfs?.diff_ids;
  if (c.rootfs?.type !== 'layers' || !Array.isArray(ids) || !ids.every((d) => typeof d === 'string' && isSha256Digest(d))) {
    throw invalidArgument(`${what} has no valid rootfs.diff_ids`, ARCHIVE_HINT);
  }
}

function checkDescriptor(d: unknown, what: string): asserts d is Descriptor {
  const x = d as Descriptor;
  if (typeof x !== 'object' || x === null || typeof x.mediaType !== 'string' || typeof x.digest !== 'string' || !Number.isSafeInteger(x.size) || x.size < 0) {
    throw invalidArgument(`${what} is not a valid descriptor`, ARCHIVE_HINT);
  }
  if (!isSha256Digest(x.digest)) throw invalidArgument(`${what} has digest "${x.digest}"; only sha256 is supported`, ARCHIVE_HINT);
}

/** A layer's staged data checked against the diff ID the config declares for it. */
function checkLayer(s: Staged, diffID: string, what: string): void {
  if (s.uncompressedDigest === undefined) {
    if (s.compression === 'zstd') throw notImplemented(`${what} is zstd-compressed, which this engine cannot unpack yet`, 'recompress the image with gzip (skopeo copy --dest-compress-format gzip)');
    throw invalidArgument(`${what} cannot be decompressed: ${s.uncompressedError ?? 'unknown format'}`, ARCHIVE_HINT);
  }
  if (s.uncompressedDigest !== diffID) {
    throw invalidArgument(`${what} has diff ID ${s.uncompressedDigest}, but the image config says ${diffID}`, ARCHIVE_HINT);
  }
}

/** Names from OCI annotations: containerd's full name, else a ref.name that is a reference, not just a tag. */
function ociNames(annotations: Record<string, string> | undefined): string[] {
  const full = annotations?.['io.containerd.image.name'];
  const refName = annotations?.['org.opencontainers.image.ref.name'];
  const candidate = full ?? (refName && /[:/]/.test(refName) ? refName : undefined);
  if (!candidate) return [];
  try {
    return [formatReference(normalizeReference(candidate))];
  } catch {
    return [];
  }
}

/**
 * Reads a docker-archive or OCI-archive tar stream. Everything is verified before this returns; the
 * blobs are staged, not visible, until publish(). On any error nothing is left behind.
 */
export async function readImageArchive(
  tar: Readable,
  content: ContentStore,
  onProgress?: (p: LoadProgress) => void,
): Promise<ArchiveContents> {
  const entries = new ArchiveEntries();
  const discardAll = async () => {
    for (const s of entries.staged.values()) await s.writer.abort();
    entries.staged.clear();
  };
  try {
    await readEntries(tar, content, entries, onProgress);
    const images = entries.meta.has('manifest.json') ? await dockerImages(entries) : await ociImages(entries);
    if (images.length === 0) throw invalidArgument('the archive holds no image', ARCHIVE_HINT);
    return archiveContents(images, entries, content);
  } catch (err) {
    await discardAll();
    throw err;
  }
}

async function readEntries(tar: Readable, content: ContentStore, entries: ArchiveEntries, onProgress?: (p: LoadProgress) => void): Promise<void> {
  const ex = tarStream.extract();
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      tar.unpipe(ex);
      ex.destroy();
      reject(err instanceof SiloError ? err : invalidArgument(`cannot read the archive: ${(err as Error).message}`, ARCHIVE_HINT));
    };
    tar.on('error', fail);
    ex.on('error', fail);
    ex.on('finish', () => {
      if (!failed) resolve();
    });
    ex.on('entry', (header, stream, next) => {
      const handle = async () => {
        const name = archivePath(header.name);
        switch (header.type) {
          case 'directory':
            stream.resume();
            return;
          case 'symlink': {
            const target = header.linkname ?? '';
            if (target.startsWith('/')) throw invalidArgument(`archive entry ${header.name} links to an absolute path`, ARCHIVE_HINT);
            const joined = path.posix.normalize(path.posix.join(path.posix.dirname(name), target));
            if (joined === '..' || joined.startsWith('../')) throw invalidArgument(`archive entry ${header.name} links outside the archive`, ARCHIVE_HINT);
            entries.links.set(name, archivePath(joined));
            stream.resume();
            return;
          }
          case 'link':
            entries.links.set(name, archivePath(header.linkname ?? ''));
            stream.resume();
            return;
          case 'file':
          case 'contiguous-file':
            break;
          default:
            throw invalidArgument(`archive entry ${header.name} has type ${header.type}, which an image archive never holds`, ARCHIVE_HINT);
        }
        if (entries.meta.has(name) || entries.staged.has(name)) throw invalidArgument(`archive entry ${name} appears twice`, ARCHIVE_HINT);
        if (isIgnoredName(name)) {
          for await (const _ of stream) void _;
        } else if (isMetadataName(name)) {
          entries.meta.set(name, await readSmall(stream, name, header.size ?? 0));
        } else {
          entries.staged.set(name, await stage(stream, content, name));
        }
        onProgress?.({ phase: 'read', entry: name, bytes: header.size ?? 0 });
      };
      handle().then(() => next(), (err) => {
        stream.resume();
        fail(err);
      });
    });
    tar.pipe(ex);
  });
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** docker-archive: manifest.json lists config and layer paths; names come from RepoTags. */
async function dockerImages(entries: ArchiveEntries): Promise<ArchivedImage[]> {
  const list = await entries.json<DockerManifestEntry[]>('manifest.json', 'manifest.json');
  if (!Array.isArray(list)) throw invalidArgument('manifest.json is not a list of images', ARCHIVE_HINT);
  // Docker >= 25 also writes an OCI index; its manifests keep the images' real manifest digests.
  const ociByConfig = new Map<string, { manifest: Descriptor; parsed: Manifest }>();
  if (entries.meta.has('index.json')) {
    for (const found of await walkIndex(entries, { mediaType: MediaType.OciIndex, digest: '', size: 0 }, 0, true)) {
      ociByConfig.set(found.parsed.config.digest, found);
    }
  }
  const images: ArchivedImage[] = [];
  for (const [i, m] of list.entries()) {
    const what = `manifest.json entry ${i}`;
    if (typeof m !== 'object' || m === null || typeof m.Config !== 'string' || !Array.isArray(m.Layers) || !m.Layers.every((l) => typeof l === 'string')) {
      throw invalidArgument(`${what} has no Config or Layers`, ARCHIVE_HINT);
    }
    const configBytes = await entries.bytes(m.Config, `${what} config`);
    const configDigest = sha256Digest(configBytes);
    const claimed = /([a-f0-9]{64})(?:\.json)?$/.exec(entries.resolve(m.Config));
    if (claimed && claimed[1] !== sha256Hex(configDigest)) {
      throw invalidArgument(`config ${m.Config} has digest ${configDigest}, not the one its name claims`, ARCHIVE_HINT);
    }
    const configJson = parseBoundedJson<ImageConfig>(configBytes, `config ${configDigest}`);
    checkConfig(configJson, `config ${configDigest}`);
    const diffIDs = configJson.rootfs.diff_ids;
    if (diffIDs.length !== m.Layers.length) {
      throw invalidArgument(`${what} lists ${m.Layers.length} layers but its config has ${diffIDs.length} diff IDs`, ARCHIVE_HINT);
    }
    const layers = m.Layers.map((p, j) => {
      const s = entries.stagedAt(p, `layer ${p}`);
      checkLayer(s, diffIDs[j], `layer ${p}`);
      const blobName = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(entries.resolve(p));
      if (blobName && `sha256:${blobName[1]}` !== s.digest) throw invalidArgument(`layer ${p} has digest ${s.digest}, not the one its name claims`, ARCHIVE_HINT);
      return { blob: { mediaType: layerMediaType(s.compression), digest: s.digest, size: s.size }, diffID: diffIDs[j], compression: s.compression };
    });
    const oci = ociByConfig.get(configDigest);
    let manifest: Descriptor;
    if (oci && oci.parsed.layers.length === layers.length && oci.parsed.layers.every((l, j) => l.digest === layers[j].blob.digest)) {
      manifest = oci.manifest;
      layers.forEach((l, j) => (l.blob = { ...l.blob, mediaType: oci.parsed.layers[j].mediaType }));
    } else {
      // The old layout has no manifest: make the one Docker 25 makes for such an image.
      const bytes = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.OciManifest,
          config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configBytes.length },
          layers: layers.map((l) => l.blob),
        } satisfies Manifest),
      );
      manifest = { mediaType: MediaType.OciManifest, digest: sha256Digest(bytes), size: bytes.length };
      entries.meta.set(`synthesized/${manifest.digest}`, bytes);
    }
    if (!entries.meta.has(`config/${configDigest}`)) entries.meta.set(`config/${configDigest}`, configBytes);
    const names = (Array.isArray(m.RepoTags) ? m.RepoTags : []).map((t) => {
      if (typeof t !== 'string') throw invalidArgument(`${what} has a RepoTags entry that is not a string`, ARCHIVE_HINT);
      return formatReference(normalizeReference(t));
    });
    images.push({ config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configBytes.length }, configJson, manifest, layers, names });
  }
  return images;
}

/** Every image manifest under an index, verified, with the names its index entry carries. */
async function walkIndex(
  entries: ArchiveEntries,
  desc: Descriptor,
  depth: number,
  top: boolean,
): Promise<Array<{ manifest: Descriptor; parsed: Manifest; names: string[] }>> {
  if (depth > 4) throw invalidArgument('image indexes nest more than 4 levels deep', ARCHIVE_HINT);
  const index = top ? await entries.json<Index>('index.json', 'index.json') : await verifiedJson<Index>(entries, desc, `index ${desc.digest}`);
  if (!Array.isArray(index.manifests)) throw invalidArgument(`${top ? 'index.json' : `index ${desc.digest}`} has no manifests list`, ARCHIVE_HINT);
  const host = hostPlatform();
  let children = index.manifests;
  if (!top) {
    // A multi-platform index: the host's platform, or the only entry there is.
    const matching = children.filter((c) => !c.platform || (c.platform.os === host.os && c.platform.architecture === host.architecture));
    children = matching.length ? matching.slice(0, 1) : children.length === 1 ? children : [];
  }
  const out: Array<{ manifest: Descriptor; parsed: Manifest; names: string[] }> = [];
  for (const [i, c] of children.entries()) {
    checkDescriptor(c, `${top ? 'index.json' : `index ${desc.digest}`} entry ${i}`);
    if (INDEX_TYPES.has(c.mediaType)) {
      const nested = await walkIndex(entries, c, depth + 1, false);
      out.push(...nested.map((n) => ({ ...n, names: [...n.names, ...ociNames(c.annotations)] })));
    } else if (MANIFEST_TYPES.has(c.mediaType)) {
      const parsed = await verifiedJson<Manifest>(entries, c, `manifest ${c.digest}`);
      checkDescriptor(parsed.config, `manifest ${c.digest} config`);
      if (!Array.isArray(parsed.layers)) throw invalidArgument(`manifest ${c.digest} has no layers list`, ARCHIVE_HINT);
      parsed.layers.forEach((l, j) => checkDescriptor(l, `manifest ${c.digest} layer ${j}`));
      out.push({ manifest: { mediaType: c.mediaType, digest: c.digest, size: c.size }, parsed, names: ociNames(c.annotations) });
    }
    // Unknown media types are skipped, as image-spec image-index.md requires.
  }
  return out;
}

/** The blob a descriptor names, read from blobs/sha256/ and checked against its digest and size. */
async function verifiedJson<T>(entries: ArchiveEntries, d: Descriptor, what: string): Promise<T> {
  const p = `blobs/sha256/${sha256Hex(d.digest)}`;
  if (!entries.has(p)) throw invalidArgument(`${what} is not in the archive`, ARCHIVE_HINT);
  const bytes = await entries.bytes(p, what);
  if (sha256Digest(bytes) !== d.digest || bytes.length !== d.size) throw invalidArgument(`${what} does not match its digest or size`, ARCHIVE_HINT);
  return parseBoundedJson<T>(bytes, what);
}

/** An OCI image layout: oci-layout + index.json + blobs/sha256/. */
async function ociImages(entries: ArchiveEntries): Promise<ArchivedImage[]> {
  if (!entries.meta.has('oci-layout') || !entries.meta.has('index.json')) {
    throw invalidArgument('the archive has neither manifest.json (docker save) nor oci-layout and index.json (OCI layout)', ARCHIVE_HINT);
  }
  const layout = await entries.json<{ imageLayoutVersion?: string }>('oci-layout', 'oci-layout');
  if (layout.imageLayoutVersion !== '1.0.0') throw invalidArgument(`oci-layout version "${layout.imageLayoutVersion}" is not 1.0.0`, ARCHIVE_HINT);
  const images = new Map<string, ArchivedImage>();
  for (const found of await walkIndex(entries, { mediaType: MediaType.OciIndex, digest: '', size: 0 }, 0, true)) {
    const m = found.parsed;
    const configBytes = await entries.bytes(`blobs/sha256/${sha256Hex(m.config.digest)}`, `config ${m.config.digest}`);
    if (sha256Digest(configBytes) !== m.config.digest || configBytes.length !== m.config.size) {
      throw invalidArgument(`config ${m.config.digest} does not match its digest or size`, ARCHIVE_HINT);
    }
    const configJson = parseBoundedJson<ImageConfig>(configBytes, `config ${m.config.digest}`);
    checkConfig(configJson, `config ${m.config.digest}`);
    const diffIDs = configJson.rootfs.diff_ids;
    if (diffIDs.length !== m.layers.length) {
      throw invalidArgument(`manifest ${found.manifest.digest} lists ${m.layers.length} layers but its config has ${diffIDs.length} diff IDs`, ARCHIVE_HINT);
    }
    const layers = m.layers.map((l, j) => {
      if (!LAYER_TYPES.has(l.mediaType)) throw invalidArgument(`layer ${l.digest} has media type ${l.mediaType}, which is not a layer`, ARCHIVE_HINT);
      const s = entries.stagedAt(`blobs/sha256/${sha256Hex(l.digest)}`, `layer ${l.digest}`);
      if (s.digest !== l.digest || s.size !== l.size) throw invalidArgument(`layer ${l.digest} does not match its digest or size`, ARCHIVE_HINT);
      checkLayer(s, diffIDs[j], `layer ${l.digest}`);
      return { blob: { mediaType: l.mediaType, digest: l.digest, size: l.size }, diffID: diffIDs[j], compression: s.compression };
    });
    const prev = images.get(m.config.digest);
    if (prev) {
      prev.names.push(...found.names.filter((n) => !prev.names.includes(n)));
      continue;
    }
    images.set(m.config.digest, {
      config: { mediaType: m.config.mediaType, digest: m.config.digest, size: m.config.size },
      configJson,
      manifest: found.manifest,
      layers,
      names: [...new Set(found.names)],
    });
  }
  return [...images.values()];
}

function archiveContents(images: ArchivedImage[], entries: ArchiveEntries, content: ContentStore): ArchiveContents {
  const byDigest = new Map<string, Staged>();
  for (const s of entries.staged.values()) if (!byDigest.has(s.digest)) byDigest.set(s.digest, s);
  const metaByDigest = new Map<string, Buffer>();
  for (const b of entries.meta.values()) metaByDigest.set(sha256Digest(b), b);
  const needed = new Set<string>();
  for (const img of images) {
    needed.add(img.config.digest);
    needed.add(img.manifest.digest);
    for (const l of img.layers) needed.add(l.blob.digest);
  }
  let done = false;
  const discard = async () => {
    if (done) return;
    done = true;
    for (const s of entries.staged.values()) await s.writer.abort();
  };
  return {
    images,
    discard,
    async publish() {
      if (done) throw invalidArgument('archive contents were already published or discarded');
      const fresh: string[] = [];
      try {
        for (const d of needed) {
          const existed = await content.has(d);
          const s = byDigest.get(d);
          if (s) {
            byDigest.delete(d);
            await s.writer.commit({ digest: d, size: s.size });
          } else {
            const b = metaByDigest.get(d);
            if (!b) throw invalidArgument(`blob ${d} is not in the archive`, ARCHIVE_HINT);
            await content.ingest(b, { digest: d });
          }
          if (!existed) fresh.push(d);
        }
      } catch (err) {
        for (const d of fresh) await content.delete(d);
        await discard();
        throw err;
      }
      await discard();
      return fresh;
    },
  };
}

/** One image to write: its record and the names to write for it (none: saved by ID). */
export interface ImageToSave {
  record: ImageRecord;
  names: Reference[];
}

/**
 * Writes images as a tarball that `docker load` (20.10 and later) and OCI tools (skopeo
 * oci-archive:, containerd import) both read. Blobs stream from the ContentStore.
 */
export async function writeImageArchive(images: ImageToSave[], content: ContentStore, out: Writable): Promise<void> {
  const pack = tarStream.pack();
  const piped = pipeline(pack, out);
  const mtime = new Date(0);
  const addBuffer = (name: string, data: Buffer) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, size: data.length, mode: 0o644, mtime }, data, (err) => (err ? reject(err) : resolve())));
  const addDir = (name: string) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, type: 'directory', mode: 0o755, mtime }, (err) => (err ? reject(err) : resolve())));
  const addBlob = async (digest: string) => {
    const { size } = await content.info(digest);
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ name: `blobs/sha256/${sha256Hex(digest)}`, size, mode: 0o644, mtime }, (err) => (err ? reject(err) : resolve()));
      pipeline(content.createReadStream(digest), entry).catch(reject);
    });
  };
  try {
    await addDir('blobs');
    await addDir('blobs/sha256');
    const written = new Set<string>();
    for (const { record } of images) {
      for (const d of [record.manifest.digest, record.config.digest, ...record.layers.map((l) => l.blob.digest)]) {
        if (written.has(d)) continue;
        written.add(d);
        await addBlob(d);
      }
    }
    const index: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
    const dockerManifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const { record, names } of images) {
      const tagged = names.filter((n) => n.tag);
      const manifestDesc: Descriptor = { mediaType: record.manifest.mediaType, digest: record.manifest.digest, size: record.manifest.size };
      if (tagged.length === 0) index.manifests.push(manifestDesc);
      for (const n of tagged) {
        index.manifests.push({
          ...manifestDesc,
          annotations: { 'io.containerd.image.name': formatReference(n), 'org.opencontainers.image.ref.name': n.tag! },
        });
        (repositories[familiarName(n)] ??= {})[n.tag!] = sha256Hex(record.id);
      }
      dockerManifest.push({
        Config: `blobs/sha256/${sha256Hex(record.config.digest)}`,
        RepoTags: tagged.length ? tagged.map((n) => `${familiarName(n)}:${n.tag}`) : null,
        Layers: record.layers.map((l) => `blobs/sha256/${sha256Hex(l.blob.digest)}`),
      });
    }
    await addBuffer('index.json', Buffer.from(JSON.stringify(index)));
    await addBuffer('manifest.json', Buffer.from(JSON.stringify(dockerManifest)));
    await addBuffer('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    if (Object.keys(repositories).length) await addBuffer('repositories', Buffer.from(JSON.stringify(repositories)));
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await piped.catch(() => undefined);
    throw err;
  }
  await piped;
}
