// The file-system side of a base-layer import and of applying whiteouts and hard links after
// ImportLayer: the writes a Windows host does with BackupWrite (hcsshim internal/wclayer
// baselayerwriter.go, legacy.go). Kept behind this small interface so the import logic above it is
// the same on every host; Windows implements it with kernel32 (backupFileWriter.ts).
//
// Every path is layer-relative ('Files/Windows/x.dll'), already checked by the layer tar reader's
// LayerPathGuard, and `root` is a folder this import created. The importer creates reparse points
// last, so nothing an implementation walks through was made by the tar (hcs.md §5.5).
import type { LayerBody, LayerEntry } from '../layerTar';

export type CreatedEntry = Extract<LayerEntry, { type: 'file' | 'directory' | 'reparsePoint' }>;

/** An entry being written: its alternate data streams follow, then it is closed. */
export interface LayerFileHandle {
  alternateStream(name: string, size: number, body: LayerBody): Promise<void>;
  /** Applies times and attributes and closes the file. */
  close(): Promise<void>;
}

export interface LayerFileWriter {
  /** Creates a file, directory or reparse point (security, EAs, reparse data, data) under `root`. */
  create(root: string, entry: CreatedEntry): Promise<LayerFileHandle>;
  /** Re-applies a directory's times once its children are written (they moved its write time). */
  setDirectoryTimes(root: string, entry: Extract<LayerEntry, { type: 'directory' }>): Promise<void>;
  /** Hard link `root/path` to `targetRoot/target` (the target may be in a parent layer). */
  link(targetRoot: string, target: string, root: string, path: string): Promise<void>;
  /** Whether `root/path` exists, without following a reparse point on the way. */
  exists(root: string, path: string): Promise<boolean>;
  /** Removes `root/path` and everything below it, never through a reparse point; false if absent. */
  remove(root: string, path: string): Promise<boolean>;
  /** What `root/path` is, without following a reparse point on the way or at the end; undefined if absent. */
  entryKind(root: string, path: string): Promise<'file' | 'directory' | 'reparsePoint' | undefined>;
  /** A plain folder (and its missing parents), no metadata of its own; an existing folder is fine. */
  makeDirectory(root: string, path: string): Promise<void>;
  /**
   * Clones the tree `sourceRoot/path` into `root/path` (hcsshim legacy.go cloneTree): folders,
   * reparse points and the files `copy` picks are copied with their metadata (backup streams, times,
   * attributes), every other file is hard linked. Never through a reparse point.
   */
  cloneTree(sourceRoot: string, root: string, path: string, copy: (path: string) => boolean): Promise<void>;
}
