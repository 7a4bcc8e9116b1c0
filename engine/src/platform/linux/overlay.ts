// The overlayfs Snapshotter: each layer unpacked once into its own directory, each container a
// writable upper directory over its image's layer chain (the containerd / Docker overlay2 shape).
//
//   layersDir/<chainID hex>/fs/          the layer's own files, whiteouts in overlayfs form
//   layersDir/<chainID hex>/layer.json   { chainID, parent, size }
//   snapshotsDir/<key>/upper/, work/     the container's writes and overlayfs' scratch dir
//   snapshotsDir/<key>/snapshot.json     { key, parent }
//   snapshotsDir/<key>/init -> ../.init  the runtime's mount points (one shared, read-only lower dir)
//
// A layer appears only complete: it is unpacked into a temp dir beside the others and renamed into
// place (rename(2) is atomic within one file system). A stopped container's upper dir can itself become
// a layer (commitSnapshot): overlayfs writes its upper in the very form a lower layer has (whiteouts as
// 0/0 character devices, opaque dirs by xattr), as containerd's overlay snapshotter commits. The
// snapshotter never mounts; the monitor does.
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { SiloError, alreadyExists, failedPrecondition, invalidArgument, notFound } from '../../errors';
import type { Change } from '../../layers/changes';
import { lookupInLayers, overlayChanges } from '../../layers/changes';
import { extractLayer, type ExtractLimits } from '../../layers/extract';
import { packChanges, packDirectory } from '../../layers/pack';
import { readLayeredFile, relativeInRoot, type LayeredFile } from '../../layers/readFile';
import type { Mount, Snapshotter, StagedLayer } from '../../layers/snapshotter';
import { unpackInWorker } from '../../layers/layerWorkers';
import { OVERLAY_OPAQUE_XATTR, type SpecialFiles } from '../../layers/special';
import { chainHex, checkKey, SNAPSHOT_KEY } from '../../layers/snapshotKeys';
import { fsyncDirSync, removeStaleTemps, tempPathFor, TEMP_PREFIX, writeFileAtomicSync } from '../../store/atomic';
import { syncFileSystem } from './libc';
import { knownAncestry, layerChain } from '../../layers/layerChain';

interface LayerRecord { chainID: string; parent?: string; size: number }
interface SnapshotRecord { key: string; parent?: string }

/** A temp dir's path in `dir`, named as the store names its temps (store/atomic.ts), so sweeps can tell stale ones. */
function tempIn(dir: string): string {
  return tempPathFor(path.join(dir, 'overlay'));
}

/** A reader sees the old record or the new one (store/atomic.ts). */
function writeRecord(file: string, value: unknown): void {
  writeFileAtomicSync(file, JSON.stringify(value) + '\n');
}

function readRecord<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SiloError('Internal', `cannot read ${file}: ${(err as Error).message}`, 'the store is damaged; remove the image and pull it again');
  }
}

function layerRecordOf(chainID: string, parent: string | undefined, size: number): LayerRecord {
  return { chainID, ...(parent !== undefined ? { parent } : {}), size };
}

/** The shared init layer's name in snapshotsDir: never a snapshot key (those start with a letter or digit). */
const SHARED_INIT = '.init';

export class OverlaySnapshotter implements Snapshotter {
  readonly name = 'overlayfs';
  private sharedInitReady = false;

  constructor(
    private readonly layersDir: string,
    private readonly snapshotsDir: string,
    private readonly special: SpecialFiles,
  ) {}

  private layerDir(chainID: string): string {
    return path.join(this.layersDir, chainHex(chainID));
  }

  private layerRecord(chainID: string): LayerRecord | undefined {
    return readRecord<LayerRecord>(path.join(this.layerDir(chainID), 'layer.json'));
  }

  /** The fs dirs of a chain, top layer first (overlayfs' lowerdir order). */
  private chain(top: string | undefined): string[] {
    return layerChain(top, (id) => this.layerRecord(id)).map((id) => path.join(this.layerDir(id), 'fs'));
  }

  async applyLayer(chainID: string, parent: string | undefined, tar: Readable, limits?: ExtractLimits): Promise<{ size: number }> {
    const existing = this.layerRecord(chainID);
    if (existing) {
      tar.destroy();
      return { size: existing.size };
    }
    if (parent !== undefined && !this.layerRecord(parent)) {
      tar.destroy();
      throw failedPrecondition(`parent layer ${parent} of ${chainID} is not unpacked`, 'unpack the layers of an image from the bottom up');
    }
    const staged = await this.stageLayer(tar, limits);
    return staged.commit(chainID, parent);
  }

  // An overlay layer's files do not depend on its parent's (whiteouts are markers, not deletions),
  // so a layer unpacks into a temp dir beside the others and becomes visible by one rename.
  async stageLayer(tar: Readable, limits?: ExtractLimits): Promise<StagedLayer> {
    return this.stage(async (dir) => (await extractLayer(tar, dir, { special: this.special, whiteouts: 'overlay', limits })).bytes);
  }

  // The worker unpacks with the host's special files (platform/linux/libc.ts), which are this.special.
  async stageBlob(blob: Readable, limits?: ExtractLimits): Promise<StagedLayer & { diffID: string }> {
    let diffID = '';
    const staged = await this.stage(async (dir) => {
      const r = await unpackInWorker(blob, dir, { whiteouts: 'overlay', limits });
      diffID = r.digest;
      return r.bytes;
    });
    return Object.assign(staged, { diffID });
  }

  /** A new staged layer: a temp dir beside the layers whose fs/ `unpack` fills (its byte count). */
  private async stage(unpack: (dir: string) => Promise<number>): Promise<StagedLayer> {
    fs.mkdirSync(this.layersDir, { recursive: true, mode: 0o700 });
    const tmp = tempIn(this.layersDir);
    try {
      fs.mkdirSync(path.join(tmp, 'fs'), { recursive: true, mode: 0o755 });
      const bytes = await unpack(path.join(tmp, 'fs'));
      let ended = false;
      const discard = async () => {
        ended = true;
        fs.rmSync(tmp, { recursive: true, force: true });
      };
      return {
        size: bytes,
        discard,
        commit: async (chainID, parent) => {
          if (ended) throw failedPrecondition(`the staged layer for ${chainID} was already committed or discarded`);
          try {
            return this.commitStaged(tmp, bytes, chainID, parent);
          } finally {
            await discard(); // a no-op after the rename
          }
        },
      };
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /** `synced`: tmp already holds its layer.json, on disk with everything else (commitSnapshot's syncfs). */
  private commitStaged(tmp: string, bytes: number, chainID: string, parent: string | undefined, synced = false): { size: number } {
    const dir = this.layerDir(chainID);
    const existing = this.layerRecord(chainID);
    if (existing) return { size: existing.size };
    if (parent !== undefined && !this.layerRecord(parent)) {
      throw failedPrecondition(`parent layer ${parent} of ${chainID} is not unpacked`, 'commit the layers of an image from the bottom up');
    }
    if (!synced) writeRecord(path.join(tmp, 'layer.json'), layerRecordOf(chainID, parent, bytes));
    try {
      fs.renameSync(tmp, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
      // Another unpack of the same layer won: keep its copy.
      return { size: this.layerRecord(chainID)?.size ?? bytes };
    }
    fsyncDirSync(this.layersDir);
    return { size: bytes };
  }

  async hasLayer(chainID: string): Promise<boolean> {
    return this.layerRecord(chainID) !== undefined;
  }

  async removeLayer(chainID: string): Promise<void> {
    const dir = this.layerDir(chainID);
    if (!this.layerRecord(chainID)) return;
    const { layers, snapshots } = await this.list();
    for (const id of layers) {
      if (this.layerRecord(id)?.parent === chainID) throw failedPrecondition(`layer ${chainID} is the parent of layer ${id}`, 'remove the images built on it first');
    }
    for (const key of snapshots) {
      const rec = readRecord<SnapshotRecord>(path.join(this.snapshotsDir, key, 'snapshot.json'));
      if (rec?.parent !== undefined && knownAncestry(rec.parent, (id) => this.layerRecord(id)).includes(chainID)) {
        throw failedPrecondition(`layer ${chainID} is in use by container snapshot ${key}`, 'remove the container first');
      }
    }
    // Out of sight first (atomic), then deleted at leisure.
    const doomed = tempIn(this.layersDir);
    fs.renameSync(dir, doomed);
    // Retried: the overlay's own files may still be settling while its last user (a monitor) exits.
    fs.rmSync(doomed, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
  }

  // A container's snapshot is scratch, as Docker's overlay2 treats it (moby daemon/graphdriver/overlay2
  // create() writes its dirs and files without a sync): nothing here is fsynced, and a host crash may
  // lose a snapshot that was just made, which reads as absent then. Every file operation on the data
  // root's file system is on the path of `run`: as few as possible (the init layer is shared).
  async prepare(key: string, parent: string | undefined): Promise<Mount[]> {
    checkKey(key);
    const dir = path.join(this.snapshotsDir, key);
    if (fs.existsSync(dir)) throw alreadyExists(`snapshot ${key} already exists`, 'remove it first');
    this.chain(parent); // every layer present
    this.ensureSharedInit();
    const tmp = tempIn(this.snapshotsDir);
    try {
      fs.mkdirSync(tmp, { mode: 0o755 });
      // An image without layers still needs one lower dir besides the init layer's mount points.
      for (const sub of parent === undefined ? ['upper', 'work', 'empty'] : ['upper', 'work']) fs.mkdirSync(path.join(tmp, sub), { mode: 0o755 });
      fs.symlinkSync(path.join('..', SHARED_INIT), path.join(tmp, 'init'));
      const record: SnapshotRecord = { key, ...(parent !== undefined ? { parent } : {}) };
      fs.writeFileSync(path.join(tmp, 'snapshot.json'), JSON.stringify(record) + '\n');
      fs.renameSync(tmp, dir);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw alreadyExists(`snapshot ${key} already exists`, 'remove it first');
      }
      throw err;
    }
    return this.mounts(key);
  }

  /**
   * The init layer every snapshot links to as its top lower dir: made once per data root, in a temp dir
   * renamed into place, so it is whole whenever it exists (a rename is journaled after the entries it
   * moves). Lower dirs are never written through overlayfs, so one copy serves every container.
   */
  private ensureSharedInit(): void {
    if (this.sharedInitReady) return;
    fs.mkdirSync(this.snapshotsDir, { recursive: true, mode: 0o700 });
    const shared = path.join(this.snapshotsDir, SHARED_INIT);
    if (!fs.existsSync(path.join(shared, 'etc', 'resolv.conf'))) {
      const tmp = tempIn(this.snapshotsDir);
      try {
        makeInitLayer(tmp);
        fs.renameSync(tmp, shared);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err; // another engine made it first
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    }
    this.sharedInitReady = true;
    // What a crashed engine left behind: half-made or half-removed snapshots.
    void removeStaleTemps(this.snapshotsDir);
  }

  private snapshot(key: string): { dir: string; record: SnapshotRecord } {
    checkKey(key);
    const dir = path.join(this.snapshotsDir, key);
    let record: SnapshotRecord | undefined;
    try {
      record = readRecord<SnapshotRecord>(path.join(dir, 'snapshot.json'));
    } catch {
      record = undefined; // written unsynced, and a crash emptied it: the snapshot is lost
    }
    if (!record) throw notFound(`snapshot ${key} does not exist`, 'remove the container and create it again');
    return { dir, record };
  }

  private lowers(dir: string, record: SnapshotRecord): string[] {
    const lowers = this.chain(record.parent);
    // overlayfs needs at least one lower dir: an image without layers gets an empty one.
    const image = lowers.length > 0 ? lowers : [path.join(dir, 'empty')];
    // Snapshots made before the init layer existed have none.
    const init = path.join(dir, 'init');
    return fs.existsSync(init) ? [init, ...image] : image;
  }

  async mounts(key: string): Promise<Mount[]> {
    const { dir, record } = this.snapshot(key);
    return [{
      type: 'overlay',
      source: 'overlay',
      options: [
        `lowerdir=${this.lowers(dir, record).join(':')}`,
        `upperdir=${path.join(dir, 'upper')}`,
        `workdir=${path.join(dir, 'work')}`,
      ],
    }];
  }

  async readFile(key: string, view: 'merged' | 'parent', p: string): Promise<LayeredFile> {
    const { dir, record } = this.snapshot(key);
    const dirs = view === 'merged' ? [path.join(dir, 'upper'), ...this.lowers(dir, record)] : this.chain(record.parent);
    return readLayeredFile(dirs, this.special, p);
  }

  async changes(key: string): Promise<Change[]> {
    const { dir, record } = this.snapshot(key);
    return overlayChanges(path.join(dir, 'upper'), this.lowers(dir, record), this.special);
  }

  exportChanges(key: string): Readable {
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    this.changes(key).then((changes) => {
      const { dir } = this.snapshot(key);
      const tar = packChanges(path.join(dir, 'upper'), changes, this.special);
      tar.on('error', (err) => out.destroy(err));
      tar.pipe(out);
    }, (err) => out.destroy(err));
    return out;
  }

  async commitSnapshot(key: string, chainID: string, parent: string | undefined): Promise<{ size: number }> {
    const { dir, record } = this.snapshot(key);
    if (record.parent !== parent) throw failedPrecondition(`snapshot ${key} is over layer ${record.parent ?? '(none)'}, not ${parent ?? '(none)'}`, 'commit a snapshot onto its own parent');
    const existing = this.layerRecord(chainID);
    if (existing) return { size: existing.size };
    if (parent !== undefined && !this.layerRecord(parent)) throw failedPrecondition(`parent layer ${parent} of ${chainID} is not unpacked`, 'commit the layers of an image from the bottom up');
    const upper = path.join(dir, 'upper');
    fs.mkdirSync(this.layersDir, { recursive: true, mode: 0o700 });
    const tmp = tempIn(this.layersDir);
    fs.mkdirSync(tmp, { mode: 0o755 });
    try {
      try {
        fs.renameSync(upper, path.join(tmp, 'fs'));
      } catch (err) {
        // Snapshots and layers on different file systems: unpack the changes instead.
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        fs.rmSync(tmp, { recursive: true, force: true });
        return this.applyLayer(chainID, parent, this.exportChanges(key));
      }
      // The snapshot stays whole (mounts, changes, remove work), now empty.
      fs.mkdirSync(upper, { mode: 0o755 });
      const size = contentBytes(path.join(tmp, 'fs'));
      // The container wrote its files without syncing them: one syncfs puts all of them on disk, the
      // layer's record with them (written first, so no fsync of its own), before the rename into place
      // makes the layer appear (commitStaged).
      fs.writeFileSync(path.join(tmp, 'layer.json'), JSON.stringify(layerRecordOf(chainID, parent, size)) + '\n');
      syncFileSystem(tmp);
      return this.commitStaged(tmp, size, chainID, parent, true);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true }); // a no-op after the rename
    }
  }

  async copyPath(parent: string | undefined, p: string, dest: string): Promise<void> {
    const rel = relativeInRoot(p);
    if (rel === '') throw invalidArgument('a volume cannot be the root directory', 'name a directory below /');
    const dirs = this.chain(parent);
    // The layers whose files the merged directory shows, top first (overlayfs' own merge rule): down
    // from the top one holding it, while it stays a plain directory; an opaque one ends the list.
    const sources: string[] = [];
    let top: fs.Stats | undefined;
    for (const layer of dirs) {
      const at = layerHolds(layer, rel, this.special);
      if (at.kind === 'hides') break;
      if (at.kind === 'dir') {
        top ??= at.st;
        sources.push(path.join(layer, rel));
      }
      if (at.last) break;
    }
    if (!top) return;
    for (const src of sources.reverse()) {
      await extractLayer(packDirectory(src, this.special), dest, { special: this.special, whiteouts: 'apply' });
    }
    fs.chownSync(dest, top.uid, top.gid);
    fs.chmodSync(dest, top.mode & 0o7777);
  }

  async makeMountPoint(key: string, p: string): Promise<void> {
    const { dir, record } = this.snapshot(key);
    const upper = path.join(dir, 'upper');
    const dirs = [upper, ...this.lowers(dir, record)];
    let rel = '';
    for (const part of relativeInRoot(p).split('/')) {
      if (part === '') return;
      const parent = rel;
      rel = rel ? `${rel}/${part}` : part;
      const found = lookupInLayers(dirs, this.special, rel);
      if (found) {
        if (!found.st.isDirectory()) return;
        continue;
      }
      // The parent is a directory of a lower layer only: bring it up first with its metadata (what
      // overlayfs' copy-up would do), so the upper copy does not mask its mode or owner.
      if (parent) copyUpDirectory(dirs, this.special, parent);
      const made = path.join(upper, rel);
      fs.mkdirSync(made);
      fs.chmodSync(made, 0o755);
    }
  }

  async remove(key: string): Promise<void> {
    checkKey(key);
    const dir = path.join(this.snapshotsDir, key);
    // Out of sight at once (one rename; a snapshot whose record a crash lost goes too), deleted after
    // the caller has its answer: the tree's unlinks are file system journal work nobody waits for. A
    // crash mid-way leaves a temp dir, which the next engine's sweep deletes.
    const doomed = tempIn(this.snapshotsDir);
    try {
      fs.renameSync(dir, doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`snapshot ${key} does not exist`);
      throw err;
    }
    // Retried: the overlay's own files may still be settling while its last user (a monitor) exits.
    void fs.promises.rm(doomed, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 }).catch(() => undefined);
  }

  async list(): Promise<{ layers: string[]; snapshots: string[] }> {
    const names = (dir: string) => {
      try { return fs.readdirSync(dir).filter((n) => !n.startsWith(TEMP_PREFIX)).sort(); } catch { return []; }
    };
    const layers = names(this.layersDir)
      .filter((n) => /^[0-9a-f]{64}$/.test(n) && fs.existsSync(path.join(this.layersDir, n, 'layer.json')))
      .map((n) => `sha256:${n}`);
    const snapshots = names(this.snapshotsDir).filter((n) => SNAPSHOT_KEY.test(n) && fs.existsSync(path.join(this.snapshotsDir, n, 'snapshot.json')));
    return { layers, snapshots };
  }
}

/**
 * Docker's init layer (moby daemon/initlayer): the mount points the runtime binds over — /etc/hosts,
 * /etc/hostname, /etc/resolv.conf and the kernel filesystems — as empty files and directories in a
 * lower layer of their own, so creating them never shows up in the container's diff or commit.
 */
function makeInitLayer(dir: string): void {
  for (const d of ['dev/pts', 'dev/shm', 'proc', 'sys', 'etc']) fs.mkdirSync(path.join(dir, d), { recursive: true, mode: 0o755 });
  for (const f of ['etc/hosts', 'etc/hostname', 'etc/resolv.conf']) fs.writeFileSync(path.join(dir, f), '', { mode: 0o644 });
}

/** Bytes of regular file contents under `dir` (a layer's size, as extractLayer counts it). */
function contentBytes(dir: string): number {
  let bytes = 0;
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    if (d.isDirectory()) bytes += contentBytes(path.join(dir, d.name));
    else if (d.isFile()) bytes += fs.lstatSync(path.join(dir, d.name)).size;
  }
  return bytes;
}

/**
 * What one layer dir holds at `rel` on its own: a directory, nothing, or something that hides the path
 * in every layer below (a whiteout or non-directory there or at an ancestor); `last` when an opaque
 * directory (the path's or an ancestor's) hides the layers below.
 */
function layerHolds(layer: string, rel: string, special: SpecialFiles): { kind: 'dir' | 'absent' | 'hides'; st?: fs.Stats; last: boolean } {
  let full = layer;
  let last = false;
  let st: fs.Stats | undefined;
  for (const part of rel.split('/')) {
    full = `${full}/${part}`;
    st = fs.lstatSync(full, { throwIfNoEntry: false });
    if (!st) return { kind: 'absent', last };
    if (!st.isDirectory()) return { kind: 'hides', last };
    if (special.lgetxattr(full, OVERLAY_OPAQUE_XATTR)?.toString() === 'y') last = true;
  }
  return { kind: 'dir', st, last };
}

/**
 * Makes the upper dir (dirs[0]) hold directory `rel` and its parents as the merged tree has them: mode,
 * owner, times and exported xattrs taken from the topmost layer that has each one. Times are set last,
 * deepest first, as overlayfs' copy-up keeps a parent's times when it brings up a child.
 */
function copyUpDirectory(dirs: string[], special: SpecialFiles, rel: string): void {
  const parts = rel.split('/');
  const made: Array<{ target: string; st: fs.Stats }> = [];
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join('/');
    const target = path.join(dirs[0], sub);
    if (fs.existsSync(target)) continue;
    const found = lookupInLayers(dirs.slice(1), special, sub);
    if (!found?.st.isDirectory()) throw new SiloError('Internal', `cannot copy up ${sub}: it is not a directory of the image`);
    const src = path.join(found.dir, sub);
    fs.mkdirSync(target);
    for (const name of special.llistxattr(src)) {
      if (name.startsWith('trusted.overlay.')) continue;
      const v = special.lgetxattr(src, name);
      if (v) special.lsetxattr(target, name, v);
    }
    fs.chownSync(target, found.st.uid, found.st.gid);
    fs.chmodSync(target, found.st.mode & 0o7777);
    made.push({ target, st: found.st });
  }
  for (const { target, st } of made.reverse()) fs.utimesSync(target, st.atimeMs / 1000, st.mtimeMs / 1000);
}
