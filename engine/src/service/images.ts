// The image use cases behind `silo import|load|save|images|image inspect|tag|rmi|history` and the
// Docker API's /images routes: one implementation, called by cli/, rpc/ and dockerapi/.
//
// Consistency: every step that makes blobs, layers or records visible, or deletes them, runs under
// the data root's GC lock (root/gc.lock), so prune never sweeps what a concurrent load or import has
// published but not yet recorded. Reading an archive or a tar (the slow part) happens outside it.
import { createHash, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { SiloError, failedPrecondition, invalidArgument, isKind, notFound } from '../errors';
import { readImageArchive, writeImageArchive, type ImageToSave, type LoadProgress } from '../image/archive';
import { chainIDs } from '../image/chainid';
import { applyConfigChanges } from '../image/configChanges';
import { sha256Digest } from '../image/digest';
import { parseBoundedJson } from '../image/json';
import { familiarName, familiarString, formatReference, normalizeReference, parseReference, repositoryName, type Reference } from '../image/reference';
import type { ImageRecord, ImageStore, LayerRecord } from '../image/store';
import { MediaType, type ContainerConfig, type DockerImageConfig, type HistoryEntry, type Manifest, type Platform } from '../image/types';
import { openLayerTar, unpackLayers } from '../image/unpack';
import { decompressStream } from '../layers/compression';
import type { Snapshotter } from '../layers/snapshotter';
import type { HistoryRow, ImageSummary } from '../protocol';

export type { HistoryRow, ImageSummary };
import type { ContentStore } from '../store/content';
import type { EventBus } from './events';
import { withLock } from '../store/lock';

export interface ImageServiceOptions {
  /** The data root; the GC lock lives at root/gc.lock. */
  root: string;
  content: ContentStore;
  images: ImageStore;
  snapshotter: Snapshotter;
  /** Whether a container uses the image (by image ID); such images are not deleted without force. */
  inUse?: (imageId: string) => boolean;
  /** Whether an image is an intermediate build step (the build cache's); hidden from `images` without --all, as Docker hides intermediate images. */
  isBuildStep?: (imageId: string) => boolean;
  /** Where `tag`, `untag` and `delete` image events go (`docker events`; Container Tools refreshes its images view on them). */
  events?: EventBus;
}

export interface ImportOptions {
  /** Name for the new image ("name[:tag]"); none leaves it untagged. */
  ref?: string;
  /** Commit message; Docker's default is "Imported from -" for a tar read from stdin. */
  message?: string;
  /** Dockerfile instructions applied to the config (`--change`). */
  changes?: string[];
  /** Overrides the host's os / architecture / variant. */
  platform?: Partial<Platform>;
}

/** What createImage makes a new image from. */
export interface CreateImageOptions {
  /** The parent image (name or ID); none: a base image over an empty root. */
  parent?: string;
  /** The new layer as an uncompressed tar; none: a metadata-only change (history `empty_layer`). */
  layer?: Readable;
  /**
   * The writable snapshot `layer` was exported from, of a container that has stopped and is removed
   * next (a build step's): its files become the layer's as they are (Snapshotter.commitSnapshot), not
   * unpacked again from the tar. The snapshot is left empty.
   */
  snapshot?: string;
  /** The new image's runnable config (the whole of it, not a delta). */
  config: ContainerConfig;
  /** The history entry this change adds (`created` is filled in). */
  history: HistoryEntry;
  /** Platform of an image without a parent; defaults to the host's. */
  platform?: Partial<Platform>;
  /** Top-level config fields Docker shows in inspect. */
  comment?: string;
  author?: string;
  /** Recorded as the config's `parent` (Docker's classic builder chain), shown by inspect. */
  parentId?: string;
  /** Name for the new image. */
  ref?: string;
  /** gzip level for the new layer blob (build steps use a fast level). */
  gzipLevel?: number;
}

/** Docker's container.Config as `docker image inspect` prints it (Go field order, omitempty kept). */
export type InspectContainerConfig = Record<string, unknown>;

/** `docker image inspect` (Engine API ImageInspect, as Docker 20.10 fills it). */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  Container: string;
  ContainerConfig: InspectContainerConfig;
  DockerVersion: string;
  Author: string;
  Config: InspectContainerConfig | null;
  Architecture: string;
  Variant?: string;
  Os: string;
  OsVersion?: string;
  Size: number;
  VirtualSize: number;
  GraphDriver: { Data: Record<string, string> | null; Name: string };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
}

/** What `docker rmi` reports, in Docker's shape. */
export type RemoveReport = Array<{ Untagged: string } | { Deleted: string }>;

export interface PruneReport {
  blobs: string[];
  layers: string[];
  ingests: number;
  /** Bytes of blobs and ingests freed (unpacked layer sizes are not measured). */
  bytes: number;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Go's time.RFC3339Nano formatting of an RFC 3339 string: trailing zeros of the fraction dropped. */
export function rfc3339Nano(s: string | undefined): string {
  if (!s) return ZERO_TIME;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return s;
  const frac = (m[2] ?? '').slice(0, 9).replace(/0+$/, '');
  return `${m[1]}${frac ? `.${frac}` : ''}${m[3]}`;
}

function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: process.platform === 'win32' ? 'windows' : 'linux', architecture: arch[process.arch] ?? process.arch };
}

/** container.Config with Go's zero values and field order (moby api/types/container/config.go). */
function inspectConfig(c: (ContainerConfig & Record<string, unknown>) | undefined | null): InspectContainerConfig {
  const v = c ?? {};
  const out: InspectContainerConfig = {
    Hostname: v.Hostname ?? '',
    Domainname: v.Domainname ?? '',
    User: v.User ?? '',
    AttachStdin: v.AttachStdin ?? false,
    AttachStdout: v.AttachStdout ?? false,
    AttachStderr: v.AttachStderr ?? false,
  };
  if (v.ExposedPorts && Object.keys(v.ExposedPorts).length) out.ExposedPorts = v.ExposedPorts;
  Object.assign(out, {
    Tty: v.Tty ?? false,
    OpenStdin: v.OpenStdin ?? false,
    StdinOnce: v.StdinOnce ?? false,
    Env: v.Env ?? null,
    Cmd: v.Cmd ?? null,
  });
  if (v.Healthcheck) out.Healthcheck = v.Healthcheck;
  if (v.ArgsEscaped) out.ArgsEscaped = true;
  Object.assign(out, { Image: v.Image ?? '', Volumes: v.Volumes ?? null, WorkingDir: v.WorkingDir ?? '', Entrypoint: v.Entrypoint ?? null });
  if (v.NetworkDisabled) out.NetworkDisabled = true;
  if (v.MacAddress) out.MacAddress = v.MacAddress;
  Object.assign(out, { OnBuild: v.OnBuild ?? null, Labels: v.Labels ?? null });
  if (v.StopSignal) out.StopSignal = v.StopSignal;
  if (v.StopTimeout !== undefined && v.StopTimeout !== null) out.StopTimeout = v.StopTimeout;
  if (v.Shell && v.Shell.length) out.Shell = v.Shell;
  return out;
}

/** A Writable that feeds a ContentStore writer. */
function writerSink(write: (chunk: Buffer) => Promise<void>): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      write(chunk).then(() => cb(), cb);
    },
  });
}

export class ImageService {
  private readonly root: string;
  private readonly content: ContentStore;
  private readonly images: ImageStore;
  private readonly snapshotter: Snapshotter;
  private readonly inUse: (imageId: string) => boolean;
  private readonly isBuildStep: (imageId: string) => boolean;
  private readonly events?: EventBus;

  constructor(opts: ImageServiceOptions) {
    this.root = opts.root;
    this.content = opts.content;
    this.images = opts.images;
    this.snapshotter = opts.snapshotter;
    this.inUse = opts.inUse ?? (() => false);
    this.isBuildStep = opts.isBuildStep ?? (() => false);
    this.events = opts.events;
  }

  private gc<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(path.join(this.root, 'gc.lock'), fn, { what: 'the image store' });
  }

  async resolve(ref: string): Promise<ImageRecord> {
    return this.images.resolve(ref);
  }

  private async configOf(record: ImageRecord): Promise<DockerImageConfig> {
    return parseBoundedJson<DockerImageConfig>(await this.content.read(record.config.digest), `config ${record.config.digest}`);
  }

  /** `docker import`: one layer from a filesystem tar (plain or gzip), gzip-compressed in the store. */
  async importRootfs(tar: Readable, opts: ImportOptions = {}): Promise<{ id: string }> {
    if (opts.ref) {
      const r = parseReference(opts.ref);
      if (r.digest) throw invalidArgument(`cannot import as ${opts.ref}: a name for a new image cannot carry a digest`);
    }
    const platform = { ...hostPlatform(), ...opts.platform };
    const message = opts.message ?? 'Imported from -';
    return this.createImage({
      // A compressed tar is accepted as `docker import` accepts it: decompressed first.
      layer: await decompressStream(tar).catch((err: Error) => {
        throw isKind(err, 'InvalidArgument') ? err : invalidArgument(`cannot read the filesystem tar: ${err.message}`);
      }),
      platform,
      config: applyConfigChanges({}, opts.changes ?? [], platform.os),
      history: { comment: message },
      comment: message,
      ref: opts.ref,
    });
  }

  /**
   * The one way a new image is made (import, build steps, commit): the parent image (none: an empty
   * root) + at most one layer tar (uncompressed; none: a metadata-only step, history `empty_layer`) +
   * the new runnable config + one history entry. All or nothing: a failure leaves no blob or record.
   */
  async createImage(opts: CreateImageOptions): Promise<{ id: string }> {
    // The parent and the layer's ingest at once: each is a few file system round trips.
    const [parent, opened] = await Promise.allSettled([
      (async () => {
        const record = opts.parent ? await this.images.resolve(opts.parent) : undefined;
        return { record, config: record ? await this.configOf(record) : undefined };
      })(),
      opts.layer ? this.content.openWriter(`import-${process.pid}-${randomUUID()}`) : Promise.resolve(undefined),
    ]);
    if (parent.status === 'rejected' || opened.status === 'rejected') {
      if (opened.status === 'fulfilled') await opened.value?.abort();
      opts.layer?.destroy();
      throw parent.status === 'rejected' ? parent.reason : (opened as PromiseRejectedResult).reason;
    }
    const { record: parentRecord, config: parentConfig } = parent.value;
    const platform: Platform = parentConfig
      ? { os: parentConfig.os, architecture: parentConfig.architecture, ...(parentConfig.variant ? { variant: parentConfig.variant } : {}), ...(parentConfig['os.version'] ? { 'os.version': parentConfig['os.version'] } : {}) }
      : { ...hostPlatform(), ...opts.platform };

    // One pass over the tar: hash it (the diff ID) while gzip-compressing it into an ingest.
    const writer = opened.value;
    let diffID: string | undefined;
    if (opts.layer && writer) {
      const diff = createHash('sha256');
      try {
        await pipeline(
          opts.layer,
          new Transform({
            transform(chunk: Buffer, _enc, cb) {
              diff.update(chunk);
              cb(null, chunk);
            },
          }),
          zlib.createGzip({ level: opts.gzipLevel ?? zlib.constants.Z_DEFAULT_COMPRESSION }),
          writerSink((c) => writer.write(c)),
        );
      } catch (err) {
        await writer.abort();
        throw isKind(err, 'InvalidArgument') || isKind(err, 'Canceled') ? err : invalidArgument(`cannot read the filesystem tar: ${(err as Error).message}`);
      }
      diffID = `sha256:${diff.digest('hex')}`;
    }
    const created = rfc3339Nano(new Date().toISOString());
    const history = [...(parentConfig?.history ?? []), { created, ...opts.history, ...(diffID ? {} : { empty_layer: true }) }];
    const diffIDs = [...(parentConfig?.rootfs.diff_ids ?? []), ...(diffID ? [diffID] : [])];
    const config: DockerImageConfig = {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      ...(platform['os.version'] ? { 'os.version': platform['os.version'] } : {}),
      created,
      ...(opts.comment ? { comment: opts.comment } : {}),
      ...(opts.author ? { author: opts.author } : {}),
      ...(opts.parentId ? { parent: opts.parentId } : {}),
      config: opts.config,
      rootfs: { type: 'layers', diff_ids: diffIDs },
      history,
    };
    const configBytes = Buffer.from(JSON.stringify(config));

    return this.gc(async () => {
      const fresh: string[] = [];
      const track = async (d: string, fn: () => Promise<unknown>) => {
        const existed = await this.content.has(d);
        await fn();
        if (!existed) fresh.push(d);
      };
      try {
        // The parent's layers must still be there (a prune may have run since it was resolved).
        const base = parentRecord ? await this.images.resolve(parentRecord.id) : undefined;
        const layers: LayerRecord[] = [...(base?.layers ?? [])];
        // Blobs and the layer's files are written at once, each made durable on its own; only the
        // image record, written after all of them, makes them reachable.
        const writes: Array<Promise<unknown>> = [];
        let layer: LayerRecord | undefined;
        const parentChain = layers[layers.length - 1]?.chainID;
        if (writer && diffID) {
          const digest = writer.digest();
          layer = { diffID, chainID: chainIDs(diffIDs)[diffIDs.length - 1], blob: { mediaType: MediaType.OciLayerGzip, digest, size: writer.offset } };
          layers.push(layer);
          writes.push(track(digest, () => writer.commit({ digest })));
        }
        const configDesc = { mediaType: MediaType.OciConfig, digest: sha256Digest(configBytes), size: configBytes.length };
        writes.push(track(configDesc.digest, () => this.content.putBytes(configBytes, { digest: configDesc.digest })));
        const manifestBytes = Buffer.from(
          JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: layers.map((l) => l.blob) } satisfies Manifest),
        );
        const manifestDesc = { mediaType: MediaType.OciManifest, digest: sha256Digest(manifestBytes), size: manifestBytes.length };
        writes.push(track(manifestDesc.digest, () => this.content.putBytes(manifestBytes, { digest: manifestDesc.digest })));
        // Last: the snapshotter's commit works synchronously, while the blob writes above proceed.
        const commitSnapshot = this.snapshotter.commitSnapshot?.bind(this.snapshotter);
        if (layer && opts.snapshot && commitSnapshot) {
          const l = layer;
          writes.push(commitSnapshot(opts.snapshot, l.chainID, parentChain).then(({ size }) => void (l.size = size)));
        }
        // Every write settles before a failure is handled, so the cleanup below sees all it made.
        const failed = (await Promise.allSettled(writes)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        const unpacked = await unpackLayers(this.content, this.snapshotter, layers);
        const record: ImageRecord = {
          id: configDesc.digest,
          manifest: manifestDesc,
          config: configDesc,
          layers: await this.withKnownSizes(unpacked),
          created,
          os: platform.os,
          architecture: platform.architecture,
          ...(platform.variant ? { variant: platform.variant } : {}),
          ...(platform['os.version'] ? { osVersion: platform['os.version'] } : {}),
        };
        await this.images.put(record);
        if (opts.ref) await this.images.tag(opts.ref, record.id);
        return { id: record.id };
      } catch (err) {
        await writer?.abort();
        for (const d of fresh) await this.content.delete(d);
        throw err;
      }
    });
  }

  /** The config of an image (for the builder and commit, which derive the next config from it). */
  async config(ref: string): Promise<DockerImageConfig> {
    return this.configOf(await this.images.resolve(ref));
  }

  /** Fills sizes of layers unpacked earlier (skipped by unpackLayers) from other records, else the snapshotter's absence of data: 0. */
  private async withKnownSizes(layers: LayerRecord[]): Promise<LayerRecord[]> {
    if (layers.every((l) => l.size !== undefined)) return layers;
    const known = new Map<string, number>();
    for (const r of await this.images.list()) for (const l of r.layers) if (l.size !== undefined) known.set(l.chainID, l.size);
    return layers.map((l) => (l.size !== undefined ? l : { ...l, size: known.get(l.chainID) ?? 0 }));
  }

  /**
   * `docker load`: every image of a docker-archive or OCI-archive stream. All or nothing: a failed
   * load leaves no new image record, name or blob.
   */
  async load(tar: Readable, onProgress?: (p: LoadProgress) => void): Promise<Array<{ id: string; names: string[] }>> {
    const contents = await readImageArchive(tar, this.content, onProgress);
    return this.gc(async () => {
      let fresh: string[] = [];
      const written: string[] = [];
      const previousNames = new Map<string, string | undefined>();
      try {
        fresh = await contents.publish();
        const loaded: Array<{ id: string; names: string[] }> = [];
        for (const img of contents.images) {
          const chains = chainIDs(img.layers.map((l) => l.diffID));
          const total = img.layers.length;
          const layers = await unpackLayers(
            this.content,
            this.snapshotter,
            img.layers.map((l, i) => ({ diffID: l.diffID, chainID: chains[i], blob: l.blob })),
            (index, layer) => onProgress?.({ phase: 'unpack', layer: layer.blob.digest, index, total }),
          );
          const id = img.config.digest;
          const existing = await this.images.get(id);
          const cfg = img.configJson;
          const record: ImageRecord = {
            ...existing,
            id,
            manifest: existing?.manifest ?? img.manifest,
            config: img.config,
            layers: await this.withKnownSizes(layers),
            created: cfg.created,
            os: cfg.os,
            architecture: cfg.architecture,
            ...(cfg.variant ? { variant: cfg.variant } : {}),
            ...(cfg['os.version'] ? { osVersion: cfg['os.version'] } : {}),
          };
          if (!existing) written.push(id);
          await this.images.put(record);
          for (const n of img.names) {
            const refs = await this.images.refs();
            if (!previousNames.has(n)) previousNames.set(n, refs[n]);
            await this.images.tag(n, id);
          }
          const names = img.names.map((n) => familiarString(parseReference(n)));
          onProgress?.({ phase: 'loaded', id, names });
          loaded.push({ id, names });
        }
        return loaded;
      } catch (err) {
        await contents.discard();
        for (const [n, prev] of previousNames) {
          if (prev) await this.images.tag(n, prev).catch(() => undefined);
          else await this.images.untag(n).catch(() => undefined);
        }
        for (const id of written) await this.images.delete(id);
        const stillUsed = await this.referencedBlobs();
        for (const d of fresh) if (!stillUsed.has(d)) await this.content.delete(d);
        throw err;
      }
    });
  }

  /** `docker save`: the images named (by name, name without tag = every tag of it, or ID) as one tarball. */
  async save(refs: string[], out: Writable): Promise<void> {
    if (refs.length === 0) throw invalidArgument('name at least one image to save');
    const byId = new Map<string, ImageToSave>();
    const allRefs = await this.images.refs();
    for (const ref of refs) {
      const found: Array<{ id: string; name?: Reference }> = [];
      let parsed: Reference | undefined;
      try {
        parsed = parseReference(ref);
      } catch {
        parsed = undefined;
      }
      if (parsed && !parsed.tag && !parsed.digest) {
        // "docker save busybox" saves every tag of the repository (moby tarexport parseNames).
        const repo = repositoryName(parsed);
        for (const [k, id] of Object.entries(allRefs)) {
          const r = parseReference(k);
          if (repositoryName(r) === repo && r.tag) found.push({ id, name: r });
        }
      }
      if (found.length === 0) {
        const record = await this.images.resolve(ref);
        const key = parsed ? formatReference(normalizeReference(ref)) : undefined;
        const name = key && allRefs[key] === record.id && !parsed?.digest ? normalizeReference(ref) : undefined;
        found.push({ id: record.id, name });
      }
      for (const f of found) {
        let entry = byId.get(f.id);
        if (!entry) {
          const record = await this.images.get(f.id);
          if (!record) throw notFound(`No such image: ${ref}`);
          entry = { record, names: [] };
          byId.set(f.id, entry);
        }
        if (f.name && !entry.names.some((n) => formatReference(n) === formatReference(f.name!))) entry.names.push(f.name);
      }
    }
    await writeImageArchive([...byId.values()], this.content, out);
  }

  /**
   * `docker images`. `all` is accepted for Docker compatibility: Silo keeps no intermediate images
   * (build steps are cache records, not images), so it lists the same rows.
   */
  async list(opts: { all?: boolean; dangling?: boolean } = {}): Promise<ImageSummary[]> {
    const refs = await this.images.refs();
    const rows: ImageSummary[] = [];
    for (const r of await this.images.list()) {
      const names = Object.keys(refs)
        .filter((k) => refs[k] === r.id)
        .map((k) => parseReference(k));
      const tagged = names.filter((n) => n.tag);
      const digested = names.filter((n) => n.digest);
      if (opts.dangling === true && tagged.length) continue;
      if (opts.dangling === false && !tagged.length) continue;
      if (!opts.all && opts.dangling === undefined && !names.length && this.isBuildStep(r.id)) continue;
      const size = r.layers.reduce((a, l) => a + (l.size ?? 0), 0);
      const base = { id: r.id, created: rfc3339Nano(r.created), size, os: r.os, architecture: r.architecture };
      if (!tagged.length) {
        rows.push({ repository: digested.length ? familiarName(digested[0]) : '<none>', tag: '<none>', digest: digested[0]?.digest ?? '<none>', ...base });
        continue;
      }
      for (const n of tagged) {
        const d = digested.find((x) => repositoryName(x) === repositoryName(n));
        rows.push({ repository: familiarName(n), tag: n.tag!, digest: d?.digest ?? '<none>', ...base });
      }
    }
    return rows.sort((a, b) => b.created.localeCompare(a.created) || a.repository.localeCompare(b.repository) || a.tag.localeCompare(b.tag));
  }

  /** `docker image inspect`, in Docker's JSON shape. */
  async inspect(ref: string): Promise<ImageInspect> {
    const r = await this.images.resolve(ref);
    const cfg = await this.configOf(r);
    const names = await this.images.refsOf(r.id);
    const size = r.layers.reduce((a, l) => a + (l.size ?? 0), 0);
    const out: ImageInspect = {
      Id: r.id,
      RepoTags: names.filter((n) => n.tag).map((n) => familiarString(n)),
      RepoDigests: names.filter((n) => n.digest).map((n) => familiarString(n)),
      Parent: cfg.parent ?? '',
      Comment: cfg.comment ?? '',
      Created: rfc3339Nano(cfg.created),
      Container: cfg.container ?? '',
      ContainerConfig: inspectConfig(cfg.container_config as ContainerConfig & Record<string, unknown>),
      DockerVersion: cfg.docker_version ?? '',
      Author: cfg.author ?? '',
      Config: cfg.config ? inspectConfig(cfg.config as ContainerConfig & Record<string, unknown>) : null,
      Architecture: cfg.architecture,
      Os: cfg.os,
      Size: size,
      VirtualSize: size,
      GraphDriver: { Data: null, Name: this.snapshotter.name },
      RootFS: { Type: cfg.rootfs.type, Layers: cfg.rootfs.diff_ids },
      Metadata: { LastTagTime: r.lastTagTime ? rfc3339Nano(r.lastTagTime) : ZERO_TIME },
    };
    if (cfg.variant) out.Variant = cfg.variant;
    if (cfg['os.version']) out.OsVersion = cfg['os.version'];
    return out;
  }

  /** `docker tag SRC DST`. */
  async tag(src: string, dst: string): Promise<void> {
    const record = await this.images.resolve(src);
    const r = parseReference(dst);
    if (r.digest) throw invalidArgument(`refusing to create a tag with a digest reference: ${dst}`);
    await this.images.tag(dst, record.id);
    this.events?.emit('image', 'tag', record.id, { name: familiarString(normalizeReference(dst)) });
  }

  /** `docker history`, newest first. */
  async history(ref: string): Promise<HistoryRow[]> {
    const r = await this.images.resolve(ref);
    const cfg = await this.configOf(r);
    const tags = (await this.images.refsOf(r.id)).filter((n) => n.tag).map((n) => familiarString(n));
    const rows: HistoryRow[] = [];
    let layer = 0;
    const entries = cfg.history?.length ? cfg.history : r.layers.map(() => ({}) as NonNullable<DockerImageConfig['history']>[number]);
    for (const h of entries) {
      const size = h.empty_layer ? 0 : (r.layers[layer++]?.size ?? 0);
      rows.push({
        Id: '<missing>',
        Created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
        CreatedBy: h.created_by ?? '',
        Tags: null,
        Size: size,
        Comment: h.comment ?? '',
      });
    }
    rows.reverse();
    if (rows.length) {
      rows[0].Id = r.id;
      rows[0].Tags = tags.length ? tags : null;
    }
    return rows;
  }

  /**
   * `docker rmi`. A name is untagged; an image left without names is deleted with its unreferenced
   * blobs and layers. By ID, an image named in several repositories needs force. An image a container
   * uses is never deleted: without force that is an error; with force it is untagged and kept (prune
   * deletes it once no container uses it).
   */
  async remove(ref: string, opts: { force?: boolean } = {}): Promise<RemoveReport> {
    return this.gc(async () => {
      const record = await this.images.resolve(ref);
      const id = record.id;
      const names = await this.images.refsOf(id);
      const report: RemoveReport = [];
      const used = this.inUse(id);
      // By name when the argument is one of the image's names (Docker prefers a name over an ID prefix).
      let key: string | undefined;
      try {
        key = formatReference(normalizeReference(ref));
      } catch {
        key = undefined;
      }
      const named = names.find((n) => formatReference(n) === key);
      if (named && key) {
        // moby isSingleReference: one repository, at most one tag (its digest references do not count).
        const single = new Set(names.map((n) => repositoryName(n))).size === 1 && names.filter((n) => !n.digest).length <= 1;
        if (single && used && !opts.force) {
          throw failedPrecondition(`conflict: unable to remove repository reference "${ref}" (must force) - a container is using its referenced image ${id.slice(7, 19)}`, 'remove the container first, or use --force to untag only');
        }
        // Removing a repository's last tag removes that repository's digest references too (moby
        // ImageDelete), so `rmi repo:tag` of a pulled image deletes it rather than leaving it <none>.
        const repo = repositoryName(named);
        const lastTag = !named.digest && !names.some((n) => n !== named && !n.digest && repositoryName(n) === repo);
        const untag = [named, ...(lastTag ? names.filter((n) => n !== named && n.digest && repositoryName(n) === repo) : [])];
        for (const n of untag) {
          await this.images.untag(formatReference(n));
          report.push({ Untagged: familiarString(n) });
          this.events?.emit('image', 'untag', id, { name: familiarString(n) });
        }
        if (names.length > untag.length || used) return report;
        return [...report, ...(await this.deleteImage(id))];
      }
      const repos = new Set(names.map((n) => repositoryName(n)));
      if (repos.size > 1 && !opts.force) {
        throw failedPrecondition(`conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`, 'remove the names one by one, or use --force');
      }
      if (used && !opts.force) {
        throw failedPrecondition(`conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is being used by a container`, 'remove the container first');
      }
      for (const n of names) {
        await this.images.untag(formatReference(n));
        report.push({ Untagged: familiarString(n) });
        this.events?.emit('image', 'untag', id, { name: familiarString(n) });
      }
      if (used) return report;
      return [...report, ...(await this.deleteImage(id))];
    });
  }

  /** Deletes the record and the blobs and layers nothing else references. Caller holds the GC lock. */
  private async deleteImage(id: string): Promise<RemoveReport> {
    const record = await this.images.get(id);
    if (!record) return [];
    await this.images.delete(id);
    this.events?.emit('image', 'delete', id, {});
    const blobs = await this.referencedBlobs();
    const chains = await this.referencedChains();
    for (const d of [record.manifest.digest, record.config.digest, ...record.layers.map((l) => l.blob.digest)]) {
      if (!blobs.has(d)) await this.content.delete(d);
    }
    const report: RemoveReport = [];
    for (const l of [...record.layers].reverse()) {
      if (chains.has(l.chainID)) continue;
      await this.snapshotter.removeLayer(l.chainID);
      report.push({ Deleted: l.chainID });
    }
    return [{ Deleted: id }, ...report];
  }

  private async referencedBlobs(): Promise<Set<string>> {
    const s = new Set<string>();
    for (const r of await this.images.list()) {
      s.add(r.manifest.digest);
      s.add(r.config.digest);
      for (const l of r.layers) s.add(l.blob.digest);
    }
    return s;
  }

  private async referencedChains(): Promise<Set<string>> {
    const s = new Set<string>();
    for (const r of await this.images.list()) for (const l of r.layers) s.add(l.chainID);
    return s;
  }

  /**
   * Garbage collection: blobs no image record references, unpacked layers neither an image nor
   * `keepChainIDs` (the parents of containers' writable snapshots) references, and ingests no live
   * writer holds.
   */
  async prune(keepChainIDs: Set<string>): Promise<PruneReport> {
    return this.gc(async () => {
      const report: PruneReport = { blobs: [], layers: [], ingests: 0, bytes: 0 };
      const blobs = await this.referencedBlobs();
      for (const b of await this.content.list()) {
        if (blobs.has(b.digest)) continue;
        if (await this.content.delete(b.digest)) {
          report.blobs.push(b.digest);
          report.bytes += b.size;
        }
      }
      const chains = await this.referencedChains();
      for (const c of keepChainIDs) chains.add(c);
      for (const layer of (await this.snapshotter.list()).layers) {
        if (chains.has(layer)) continue;
        await this.snapshotter.removeLayer(layer);
        report.layers.push(layer);
      }
      const ingests = await this.content.removeStaleIngests();
      report.ingests = ingests.count;
      report.bytes += ingests.bytes;
      return report;
    });
  }

  /**
   * Records an image whose blobs (and, for this host's OS, unpacked layers) are already in place (a
   * registry pull: service/distribution.ts), under the GC lock, and points `names` at it. Content a
   * concurrent prune removed in the meantime makes it fail with Unavailable: pull again.
   */
  async publish(record: ImageRecord, names: string[], opts: { unpacked: boolean }): Promise<void> {
    return this.gc(async () => {
      for (const d of [record.manifest.digest, record.config.digest, ...record.layers.map((l) => l.blob.digest)]) {
        if (!(await this.content.has(d))) throw new SiloError('Unavailable', `blob ${d} was removed while the image was pulled`, 'pull again');
      }
      if (opts.unpacked) {
        for (const l of record.layers) {
          if (!(await this.snapshotter.hasLayer(l.chainID))) throw new SiloError('Unavailable', `layer ${l.chainID} was removed while the image was pulled`, 'pull again');
        }
      }
      const existing = await this.images.get(record.id);
      await this.images.put({ ...existing, ...record, layers: await this.withKnownSizes(record.layers) });
      for (const n of names) await this.images.tag(n, record.id);
    });
  }

  /** The uncompressed tar of one layer of an image (for the Layers view and `silo diff`). */
  async layerTar(ref: string, index: number): Promise<Readable> {
    const r = await this.images.resolve(ref);
    const l = r.layers[index];
    if (!l) throw notFound(`image ${ref} has no layer ${index}`);
    return openLayerTar(this.content, l.blob);
  }
}
