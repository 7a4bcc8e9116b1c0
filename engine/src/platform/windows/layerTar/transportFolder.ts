// The transport folder of vmcompute ImportLayer / ExportLayer (hcsshim internal/wclayer/legacy.go):
//   Files\<path>                 u32 LE file attributes, then the file's backup stream
//   <dir>.$wcidirs$              the same for a directory (beside the directory itself), also for
//                                the Files and Hives folders themselves
//   Hives\<name>                 the hive's bytes (BackupWrite without security leaves only the data)
//   tombstones.txt               (ExportLayer output) UTF-8 BOM "Version 1.0", then "\<path>" lines
// Writing never goes through anything it did not create: every path is checked by LayerPathGuard,
// reparse points are data inside the stream files, directory reparse points are left as empty
// placeholders (hcsshim "delay reparse point directory creation"), and whiteouts and hard links are
// returned to be applied after ImportLayer, relative to the new layer, as hcsshim does since v0.6.10.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { invalidArgument, notImplemented } from '../../../errors';
import { decodeBackupStream } from './backupStream';
import { alternateStreamHeader, backupStreamPrefix, entryFromBackupStreams, sized } from './backupEntry';
import { FileAttribute, type LayerEntry, type WindowsFileInfo } from './entry';

export const DIR_METADATA_SUFFIX = '.$wcidirs$';
export const TOMBSTONES_FILE = 'tombstones.txt';
const TOMBSTONES_HEADER = '\ufeffVersion 1.0';

/** File times the host can keep: Node sets write and access times; Windows callers can do all four. */
export interface FileTimes {
  set(absPath: string, info: WindowsFileInfo): Promise<void>;
  get(absPath: string): Promise<Pick<WindowsFileInfo, 'lastWriteTime' | 'lastAccessTime' | 'creationTime' | 'changeTime'>>;
}

export const nodeFileTimes: FileTimes = {
  async set(p, info) {
    const toDate = (ns: bigint) => new Date(Number(ns / 1_000_000n));
    await fs.utimes(p, toDate(info.lastAccessTime ?? info.lastWriteTime), toDate(info.lastWriteTime));
  },
  async get(p) {
    const st = await fs.stat(p, { bigint: true });
    return { lastWriteTime: st.mtimeNs, lastAccessTime: st.atimeNs, creationTime: st.birthtimeNs, changeTime: st.ctimeNs };
  },
};

export interface TransportImport {
  /** Paths (under Files/) to delete from the new layer after ImportLayer; a missing one is fine. */
  tombstones: string[];
  /** Hard links to create in the new layer after ImportLayer. */
  hardLinks: Array<{ path: string; target: string }>;
  /** Directory reparse points left as empty placeholders; ImportLayer makes them from their metadata. */
  reparseDirectories: string[];
}

export interface TransportWriteOptions {
  times?: FileTimes;
  /** UtilityVM content goes straight into the layer with BackupWrite; only a Windows host can. */
  utilityVm?: (entry: LayerEntry) => Promise<void>;
}

const onHost = (root: string, p: string) => path.join(root, ...p.split('/'));

/** Writes a layer's entries (already checked by the tar reader) as a transport folder under `root`. */
export async function writeTransportFolder(root: string, entries: AsyncIterable<LayerEntry>, opts: TransportWriteOptions = {}): Promise<TransportImport> {
  const times = opts.times ?? nodeFileTimes;
  const result: TransportImport = { tombstones: [], hardLinks: [], reparseDirectories: [] };
  await fs.mkdir(root, { recursive: true });
  let open: { fh: fs.FileHandle; abs: string; path: string; info: WindowsFileInfo } | undefined;
  const closeOpen = async () => {
    if (!open) return;
    const o = open;
    open = undefined;
    await o.fh.close();
    await times.set(o.abs, o.info);
  };
  const writeChunks = async (fh: fs.FileHandle, chunks: AsyncIterable<Uint8Array>) => {
    for await (const c of chunks) await fh.write(c);
  };

  for await (const entry of entries) {
    if (entry.type !== 'alternateStream') await closeOpen();
    if (entry.path === 'UtilityVM' || entry.path.startsWith('UtilityVM/')) {
      if (!opts.utilityVm) throw notImplemented('This layer changes the Hyper-V utility VM image, which only a Windows host can import', 'pull it on Windows');
      await opts.utilityVm(entry);
      continue;
    }
    switch (entry.type) {
      case 'whiteout':
        result.tombstones.push(entry.path);
        continue;
      case 'hardLink':
        result.hardLinks.push({ path: entry.path, target: entry.target });
        continue;
      case 'alternateStream': {
        const file = entry.path.slice(0, entry.path.indexOf(':'));
        if (!open || open.path !== file) throw invalidArgument(`The alternate data stream ${JSON.stringify(entry.path)} does not follow its file`);
        if (file.startsWith('Hives/')) throw invalidArgument(`Registry hive ${JSON.stringify(file)} cannot have alternate data streams`, 'the layer is corrupt');
        await open.fh.write(alternateStreamHeader(entry.path.slice(file.length + 1), entry.size));
        await writeChunks(open.fh, sized(entry.body, entry.size, entry.path));
        continue;
      }
    }
    const abs = onHost(root, entry.path);
    await fs.mkdir(path.dirname(abs), { recursive: true });
    const isDir = entry.type === 'directory' || (entry.type === 'reparsePoint' && (entry.info.attributes & FileAttribute.Directory) !== 0);
    if (entry.path.startsWith('Hives/')) {
      if (entry.type !== 'file') throw invalidArgument(`The registry hive entry ${JSON.stringify(entry.path)} is not a file`, 'the layer is corrupt');
      const fh = await fs.open(abs, 'wx');
      await writeChunks(fh, sized(entry.body, entry.size, entry.path));
      open = { fh, abs, path: entry.path, info: entry.info };
      continue;
    }
    let target = abs;
    if (isDir) {
      if (entry.type === 'reparsePoint') result.reparseDirectories.push(entry.path);
      else await fs.mkdir(abs, { recursive: true });
      target = abs + DIR_METADATA_SUFFIX;
    }
    const fh = await fs.open(target, 'wx');
    const attr = Buffer.alloc(4);
    attr.writeUInt32LE(entry.info.attributes >>> 0);
    await fh.write(attr);
    await fh.write(backupStreamPrefix(entry));
    if (entry.type === 'file') await writeChunks(fh, sized(entry.body, entry.size, entry.path));
    open = { fh, abs: target, path: entry.path, info: entry.info };
  }
  await closeOpen();
  // Placeholders last, so nothing could have been written into them (hcsshim legacyLayerWriter.Close).
  for (const d of result.reparseDirectories) await fs.mkdir(onHost(root, d), { recursive: true });
  return result;
}

/** The tombstones.txt that ExportLayer writes, for a list of deleted Files/ paths. */
export function encodeTombstones(paths: string[]): string {
  return [TOMBSTONES_HEADER, ...paths.map((p) => '\\' + p.slice('Files/'.length).split('/').join('\\'))].join('\r\n') + '\r\n';
}

export function decodeTombstones(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines[0] !== TOMBSTONES_HEADER) throw invalidArgument('The layer export has an invalid tombstones.txt', 'export the layer again');
  return lines.slice(1).filter((l) => l !== '').map((l) => {
    if (!l.startsWith('\\')) throw invalidArgument(`The tombstone ${JSON.stringify(l)} is not a \\path`, 'export the layer again');
    return 'Files/' + l.slice(1).split('\\').join('/');
  });
}

/** Lexical order by bytes, as Go's filepath.Walk visits a folder. */
const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export interface TransportReadOptions {
  times?: FileTimes;
}

/**
 * Reads an ExportLayer transport folder as layer entries (hcsshim legacyLayerReader): a depth-first
 * walk in name order, each folder's tombstones right after the folder. Outside Files\ creation and
 * access times are forced to the write time, and the Files and Hives folders take their times from
 * Hives\System_Delta, which keeps an export deterministic. A file under Files\ with more than one
 * link is read once and every later name of it becomes a hard link to the first (hcsshim
 * pkg/ociwclayer/export.go writeTarFromLayer, keyed by the file ID); the key here is the volume and
 * file index Node's lstat reports (libuv: VolumeSerialNumber and the NTFS file index on Windows).
 */
export async function* readTransportFolder(root: string, opts: TransportReadOptions = {}): AsyncGenerator<LayerEntry> {
  const times = opts.times ?? nodeFileTimes;
  let tombstonesText: string;
  try {
    tombstonesText = await fs.readFile(path.join(root, TOMBSTONES_FILE), 'utf8');
  } catch {
    throw invalidArgument('The layer export has no tombstones.txt', 'export the layer again');
  }
  const byDir = new Map<string, string[]>();
  for (const t of decodeTombstones(tombstonesText)) {
    const dir = t.slice(0, t.lastIndexOf('/'));
    byDir.set(dir, [...(byDir.get(dir) ?? []), t]);
  }
  const deltaTimes = async () => {
    try {
      return await times.get(path.join(root, 'Hives', 'System_Delta'));
    } catch {
      return undefined;
    }
  };

  /** volume:file index -> the first name seen of a file with several links. */
  const linked = new Map<string, string>();

  async function* walk(rel: string): AsyncGenerator<LayerEntry> {
    const names = (await fs.readdir(rel === '' ? root : onHost(root, rel))).sort(byBytes);
    for (const name of names) {
      const p = rel === '' ? name : `${rel}/${name}`;
      if (rel === '' && name === TOMBSTONES_FILE) continue;
      if (name.endsWith(DIR_METADATA_SUFFIX)) continue;
      if (p.toLowerCase() === 'files/$recycle.bin') continue;
      const abs = onHost(root, p);
      const st = await fs.lstat(abs);
      if (st.isSymbolicLink()) throw invalidArgument(`The layer export holds a link at ${JSON.stringify(p)}`, 'export the layer again');
      if (p.startsWith('Files/')) {
        if (!st.isDirectory()) {
          const ids = await fs.lstat(abs, { bigint: true });
          if (ids.nlink > 1n) {
            const id = `${ids.dev}:${ids.ino}`;
            const first = linked.get(id);
            if (first !== undefined) {
              yield { type: 'hardLink', path: p, target: first };
              continue;
            }
            linked.set(id, p);
          }
        }
        const buf = await fs.readFile(st.isDirectory() ? abs + DIR_METADATA_SUFFIX : abs);
        if (buf.length < 4) throw invalidArgument(`The layer export entry ${JSON.stringify(p)} is truncated`, 'export the layer again');
        const t = await times.get(st.isDirectory() ? abs + DIR_METADATA_SUFFIX : abs);
        const decoded = entryFromBackupStreams(p, { attributes: buf.readUInt32LE(0), ...t }, decodeBackupStream(buf.subarray(4)));
        yield decoded.entry;
        for (const s of decoded.streams) yield { type: 'alternateStream', path: `${p}:${s.name}`, size: s.data.length, body: s.data };
      } else {
        let t = await times.get(abs);
        if (p === 'Files' || p === 'Hives') t = (await deltaTimes()) ?? t;
        const info: WindowsFileInfo = { attributes: st.isDirectory() ? FileAttribute.Directory : FileAttribute.Archive, lastWriteTime: t.lastWriteTime, creationTime: t.lastWriteTime, lastAccessTime: t.lastWriteTime };
        if (t.changeTime !== undefined) info.changeTime = t.changeTime;
        if (st.isDirectory()) yield { type: 'directory', path: p, info };
        else {
          const body = await fs.readFile(abs);
          yield { type: 'file', path: p, info, size: body.length, body };
        }
      }
      if (st.isDirectory()) {
        for (const t of byDir.get(p) ?? []) yield { type: 'whiteout', path: t };
        byDir.delete(p);
        yield* walk(p);
      }
    }
  }
  yield* walk('');
  // Deletions under a folder the export does not list (nothing else in it changed) come last; a
  // tombstone is never dropped.
  for (const dir of [...byDir.keys()].sort(byBytes)) for (const t of byDir.get(dir)!) yield { type: 'whiteout', path: t };
}

/** Writes a transport folder's tombstones.txt (what ExportLayer leaves; used to build test exports). */
export async function writeTombstones(root: string, paths: string[]): Promise<void> {
  await fs.writeFile(path.join(root, TOMBSTONES_FILE), encodeTombstones(paths), { flag: 'wx' });
}
