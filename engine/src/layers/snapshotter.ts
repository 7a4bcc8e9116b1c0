// The Snapshotter turns a chain of layers into a container's root filesystem and reports what a
// container changed. Its life, for one image and one container (the containerd shape):
//
//   applyLayer(chainID_1, undefined, tar_1)     unpack each layer once, keyed by its chain ID
//   applyLayer(chainID_2, chainID_1, tar_2)
//   prepare(containerID, chainID_2)             a writable snapshot over the chain -> Mount[]
//   ... one place mounts the Mount[] and the runtime runs the container ...
//   changes(containerID) / exportChanges(...)   the container's diff, cost proportional to the changes
//   remove(containerID)                         drop the writable snapshot
//   removeLayer(chainID_2), removeLayer(...)    when no image or container refers to them
//
// A snapshotter never mounts; it returns Mount data (overlay on Linux, windows-layer on Windows).
import type { Readable } from 'node:stream';
import type { Change } from './changes';
import type { ExtractLimits } from './extract';
import type { LayeredFile } from './readFile';

export interface Mount {
  type: string; // 'overlay' | 'bind' | 'windows-layer'
  source: string;
  options: string[];
}

/** A layer unpacked by stageLayer and not yet visible. Exactly one of commit or discard ends it. */
export interface StagedLayer {
  /** Bytes of file contents unpacked. */
  readonly size: number;
  /**
   * Publishes the staged files as the committed layer `chainID` over `parent`, atomically. The parent
   * must be committed already (FailedPrecondition otherwise, and the stage is discarded). An existing
   * layer of that chain ID is kept and the stage discarded.
   */
  commit(chainID: string, parent: string | undefined): Promise<{ size: number }>;
  discard(): Promise<void>;
}

export interface Snapshotter {
  /** 'overlayfs' or 'windowsfilter': the storage driver name users see. */
  readonly name: string;
  /**
   * Unpacks an uncompressed layer tar as the committed layer `chainID` over `parent`.
   * Atomic: a failed or interrupted unpack leaves nothing under the chain ID. An existing layer is kept.
   * Returns the unpacked size in bytes.
   */
  applyLayer(chainID: string, parent: string | undefined, tar: Readable, limits?: ExtractLimits): Promise<{ size: number }>;
  /**
   * Unpacks an uncompressed layer tar into a private staging area, before its parent exists, so the
   * layers of one image can unpack concurrently. Nothing staged is visible until `commit`, which the
   * caller calls only after verifying the content, bottom layer first. Optional: without it, callers
   * use applyLayer in chain order.
   */
  stageLayer?(tar: Readable, limits?: ExtractLimits): Promise<StagedLayer>;
  /**
   * stageLayer from the layer's blob (gzip, zstd or plain) rather than its tar: inflated, hashed and
   * unpacked off the event loop (layers/layerWorkers.ts). `diffID` is the tar's digest, for the
   * caller to check before commit. Optional: callers inflate themselves without it.
   */
  stageBlob?(blob: Readable, limits?: ExtractLimits): Promise<StagedLayer & { diffID: string }>;
  hasLayer(chainID: string): Promise<boolean>;
  removeLayer(chainID: string): Promise<void>;
  /** Creates the writable snapshot `key` over the layer chain ending at `parent` (none: an empty root). */
  prepare(key: string, parent: string | undefined): Promise<Mount[]>;
  /** The mounts of an existing writable snapshot. */
  mounts(key: string): Promise<Mount[]>;
  /** What the writable snapshot changed against its parent, sorted by path. */
  changes(key: string): Promise<Change[]>;
  /** The changes as an uncompressed OCI layer tar (whiteouts as `.wh.` entries). */
  exportChanges(key: string): Readable;
  remove(key: string): Promise<void>;
  /**
   * Makes what the writable snapshot `key` (over `parent`) changed the committed layer `chainID`, by
   * moving its files rather than unpacking the same changes again from a tar (containerd's overlay
   * snapshotter Commit). Only for a snapshot nothing runs on any more: it is left empty, for remove().
   * Atomic and durable: the layer appears complete or not at all. An existing layer of that chain ID is
   * kept and the snapshot's changes dropped. Returns the layer's bytes of file contents. Optional:
   * without it, callers unpack exportChanges' tar with applyLayer.
   */
  commitSnapshot?(key: string, chainID: string, parent: string | undefined): Promise<{ size: number }>;
  /**
   * Copies the directory `path` of the layer chain ending at `parent` (its contents, owner and mode)
   * into the existing empty directory `dest`; nothing when the chain has no directory there. How an
   * anonymous volume is initialised from its image (moby volume/mounts CopyImagePathContent).
   * Optional: without it, volumes start empty.
   */
  copyPath?(parent: string | undefined, path: string, dest: string): Promise<void>;
  /**
   * Makes the directory `path` (and missing parents: root-owned, 0755) in the writable snapshot `key`
   * when its tree has nothing there, as runc makes a mount point (MkdirAllInRoot, 0755); crun would
   * make it 01755, which a committed layer would keep. Nothing when a path component is not a plain
   * directory (the runtime resolves that). Optional.
   */
  makeMountPoint?(key: string, path: string): Promise<void>;
  /**
   * One file of a writable snapshot, read-only and without mounting: `view` 'merged' is what the
   * container sees, 'parent' the same path in the image's layers (the editor's diff sides). Optional:
   * a snapshotter without it answers NotImplemented through the caller.
   */
  readFile?(key: string, view: 'merged' | 'parent', path: string): Promise<LayeredFile>;
  /** Every committed layer's chain ID and writable snapshot key present on disk (for prune). */
  list(): Promise<{ layers: string[]; snapshots: string[] }>;
}
