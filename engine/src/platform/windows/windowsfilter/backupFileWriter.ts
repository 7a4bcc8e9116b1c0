// LayerFileWriter on Windows: what hcsshim's baseLayerWriter does (internal/wclayer/baselayerwriter.go,
// go-winio backup.go). Each entry is opened with backup semantics and WRITE_DAC | WRITE_OWNER |
// ACCESS_SYSTEM_SECURITY, its backup stream (security, EAs, reparse data, data, alternate streams)
// goes through BackupWrite, and its times and attributes are set last with SetFileInformationByHandle.
// Needs an elevated engine with SeBackupPrivilege, SeRestorePrivilege and SeSecurityPrivilege, which
// the first write enables (Docker enables them in a re-exec'd child; the engine keeps them).
//
// Paths: every open is relative to a directory handle and made by NtCreateFile with OBJ_DONT_REPARSE,
// one component at a time from the layer root, so no write ever passes through a reparse point —
// not one a hostile tar planted earlier, nor one a parent layer holds (hcsshim internal/safefile,
// the CVE-2018-8115 fix; hcs.md §5.5). Hard links are made by name relative to the new link's parent
// handle (FileLinkInformation), removals by delete disposition on a handle opened the same way.
import * as fs from 'node:fs/promises';
import { invalidArgument, permissionDenied, SiloError } from '../../../errors';
import { loadAdvapi32, SE_PRIVILEGE_ENABLED, TOKEN_ADJUST_PRIVILEGES, TOKEN_QUERY } from '../bindings/advapi32';
import { loadKernel32, type Kernel32 } from '../bindings/kernel32';
import {
  FILE_DISPOSITION_DELETE,
  FILE_DISPOSITION_INFORMATION_EX_CLASS,
  FILE_LINK_INFORMATION_CLASS,
  loadNtFiles,
  NtDisposition,
  NtOption,
  NtStatus,
  OBJ_DONT_REPARSE,
  OBJECT_ATTRIBUTES_SIZE,
  type NtFiles,
} from '../bindings/ntdll';
import { koffi } from '../bindings/types';
import { alternateStreamHeader, backupStreamPrefix, FileAttribute, sized, toFileTime, type LayerBody, type WindowsFileInfo } from '../layerTar';
import { joinLayerPath } from './importLayer';
import type { CreatedEntry, LayerFileHandle, LayerFileWriter } from './layerFiles';

const GENERIC_READ = 0x80000000;
const GENERIC_WRITE = 0x40000000;
const DELETE = 0x10000;
const SYNCHRONIZE = 0x100000;
const FILE_READ_ATTRIBUTES = 0x80;
const FILE_WRITE_ATTRIBUTES = 0x100;
const WRITE_DAC = 0x40000;
const WRITE_OWNER = 0x80000;
const ACCESS_SYSTEM_SECURITY = 0x1000000;
const FILE_SHARE_READ = 1;
const FILE_SHARE_ALL = 7;
const OPEN_EXISTING = 3;
const FILE_FLAG_BACKUP_SEMANTICS = 0x02000000;
const FILE_BASIC_INFO_CLASS = 0;
/** FILE_DISPOSITION_INFORMATION_EX: a read-only file is deleted too (Windows 10 1809+). */
const FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE = 0x10;
/** What an entry's own open asks for (hcsshim baseLayerWriter.Add). */
const ENTRY_ACCESS = GENERIC_READ | GENERIC_WRITE | WRITE_DAC | WRITE_OWNER | ACCESS_SYSTEM_SECURITY;

/** The time fields of FILE_BASIC_INFO; 0 means "leave as is". */
function basicInfo(info: WindowsFileInfo) {
  const ft = (ns: bigint | undefined) => (ns === undefined ? 0n : toFileTime(ns));
  return {
    CreationTime: ft(info.creationTime ?? info.lastWriteTime),
    LastAccessTime: ft(info.lastAccessTime ?? info.lastWriteTime),
    LastWriteTime: ft(info.lastWriteTime),
    ChangeTime: ft(info.changeTime ?? info.lastWriteTime),
    FileAttributes: info.attributes >>> 0,
  };
}

const hex = (status: number) => '0x' + (status >>> 0).toString(16).padStart(8, '0');
const isMissing = (status: number) => status === NtStatus.ObjectNameNotFound || status === NtStatus.ObjectPathNotFound;

/** One open of a name relative to a directory handle; `status` is the NTSTATUS, `handle` set when 0. */
interface NtOpen { status: number; handle: unknown }

export class BackupFileWriter implements LayerFileWriter {
  private k32: Required<Kernel32> | undefined; // the functions this writer uses are all present
  private ntFiles: Required<NtFiles> | undefined;
  private privileged = false;

  constructor(
    private readonly kernel32Path = 'kernel32.dll',
    private readonly advapi32Path = 'advapi32.dll',
    private readonly ntdllPath = 'ntdll.dll',
  ) {}

  private get api(): Required<Kernel32> {
    if (!this.k32) {
      const k = loadKernel32(this.kernel32Path);
      const needed = ['BackupWrite', 'CreateFileW', 'SetFileInformationByHandle', 'GetLastError', 'GetCurrentProcess'] as const;
      for (const name of needed) if (!k[name]) throw new SiloError('Unavailable', `kernel32.dll lacks ${name}`, 'Windows containers need Windows 10 1809 / Server 2019 or later');
      this.k32 = k as Required<Kernel32>;
    }
    return this.k32;
  }

  private get nt(): Required<NtFiles> {
    if (!this.ntFiles) {
      const n = loadNtFiles(this.ntdllPath);
      for (const name of ['NtCreateFile', 'NtSetInformationFile'] as const) if (!n[name]) throw new SiloError('Unavailable', `ntdll.dll lacks ${name}`, 'Windows containers need Windows 10 1809 / Server 2019 or later');
      this.ntFiles = n as Required<NtFiles>;
    }
    return this.ntFiles;
  }

  /** SeBackupPrivilege, SeRestorePrivilege, SeSecurityPrivilege on this process's token. */
  private enablePrivileges(): void {
    if (this.privileged) return;
    const adv = loadAdvapi32(this.advapi32Path);
    const token = [null];
    if (!adv.OpenProcessToken(this.api.GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, token)) throw this.lastError('open the engine process token');
    try {
      for (const name of ['SeBackupPrivilege', 'SeRestorePrivilege', 'SeSecurityPrivilege']) {
        const luid = [0n];
        if (!adv.LookupPrivilegeValueW(null, name, luid)) throw this.lastError(`look up ${name}`);
        adv.AdjustTokenPrivileges(token[0], 0, { PrivilegeCount: 1, Privileges: [{ Luid: luid[0], Attributes: SE_PRIVILEGE_ENABLED }] }, 0, null, null);
        // AdjustTokenPrivileges succeeds without the privilege and sets ERROR_NOT_ALL_ASSIGNED (1300).
        if (this.api.GetLastError() === 1300) throw permissionDenied(`Importing Windows layers needs ${name}`, 'run the engine elevated, as Administrator');
      }
    } finally {
      this.api.CloseHandle(token[0]);
    }
    this.privileged = true;
  }

  private lastError(what: string): SiloError {
    const code = Number(this.api.GetLastError());
    if (code === 5 || code === 1314) return permissionDenied(`Could not ${what}: access is denied (Windows error ${code})`, 'run the engine elevated, as Administrator');
    return new SiloError('Internal', `Could not ${what} (Windows error ${code})`);
  }

  private statusError(what: string, rel: string, status: number): SiloError {
    if (status === NtStatus.ReparsePointEncountered) return invalidArgument(`The layer entry ${JSON.stringify(rel)} goes through a reparse point`, 'the image is malformed or hostile; do not use it');
    if (status === NtStatus.AccessDenied || status === NtStatus.PrivilegeNotHeld) return permissionDenied(`Could not ${what} ${rel}: access is denied (NTSTATUS ${hex(status)})`, 'run the engine elevated, as Administrator');
    return new SiloError('Internal', `Could not ${what} ${rel} (NTSTATUS ${hex(status)})`);
  }

  /** The layer folder itself, opened for backup: the handle every relative open starts from. */
  private openRoot(root: string): unknown {
    const h = this.api.CreateFileW(root, GENERIC_READ, FILE_SHARE_ALL, null, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, null);
    if (h === null || koffi.address(h) === 0xffffffffffffffffn) throw this.lastError(`open the layer folder ${root}`);
    return h;
  }

  /** NtCreateFile of one name relative to `dir`, never following a reparse point (OBJ_DONT_REPARSE). */
  private ntOpen(dir: unknown, name: string, access: number, share: number, disposition: number, options: number): NtOpen {
    const out: unknown[] = [null];
    const oa = {
      Length: OBJECT_ATTRIBUTES_SIZE,
      RootDirectory: dir,
      ObjectName: { Length: name.length * 2, MaximumLength: name.length * 2, Buffer: name },
      Attributes: OBJ_DONT_REPARSE,
      SecurityDescriptor: null,
      SecurityQualityOfService: null,
    };
    const status = Number(this.nt.NtCreateFile(out, (access | SYNCHRONIZE) >>> 0, oa, {}, null, 0, share, disposition, options | NtOption.OpenForBackupIntent | NtOption.SynchronousIoNonAlert, null, 0)) >>> 0;
    return { status, handle: status === 0 ? out[0] : undefined };
  }

  /**
   * Opens the folder that holds `rel`'s last component, walking from the root one component at a
   * time, each opened relative to the one before and refusing reparse points; missing folders are
   * made when `makeParents`. Returns undefined when a folder on the way is missing. The caller closes.
   */
  private parentOf(root: string, rel: string, makeParents: boolean): { dir: unknown; leaf: string } | undefined {
    const parts = rel.split('/');
    let dir = this.openRoot(root);
    try {
      for (const [i, c] of parts.slice(0, -1).entries()) {
        const o = this.ntOpen(dir, c, GENERIC_READ, FILE_SHARE_ALL, makeParents ? NtDisposition.OpenIf : NtDisposition.Open, NtOption.DirectoryFile);
        if (o.status !== 0) {
          if (!makeParents && (isMissing(o.status) || o.status === NtStatus.NotADirectory)) return undefined;
          throw this.statusError('open the folder of', parts.slice(0, i + 1).join('/'), o.status);
        }
        this.api.CloseHandle(dir);
        dir = o.handle;
      }
    } catch (err) {
      this.api.CloseHandle(dir);
      throw err;
    }
    return { dir, leaf: parts[parts.length - 1] };
  }

  /** Opens `rel` itself; undefined when it (or a folder on the way) does not exist. */
  private openEntry(root: string, rel: string, access: number, disposition: number, options: number, makeParents = false, share = FILE_SHARE_READ): unknown {
    const parent = this.parentOf(root, rel, makeParents);
    if (!parent) return undefined;
    try {
      const o = this.ntOpen(parent.dir, parent.leaf, access, share, disposition, options);
      if (o.status === 0) return o.handle;
      if (disposition === NtDisposition.Open && isMissing(o.status)) return undefined;
      throw this.statusError(disposition === NtDisposition.Open ? 'open' : 'create', rel, o.status);
    } finally {
      this.api.CloseHandle(parent.dir);
    }
  }

  async create(root: string, entry: CreatedEntry): Promise<LayerFileHandle> {
    this.enablePrivileges();
    const dir = entry.type === 'directory' || (entry.info.attributes & FileAttribute.Directory) !== 0;
    const k = this.api;
    // A folder may already exist as the parent of an earlier entry; anything else is new.
    const plainDir = entry.type === 'directory';
    const h = this.openEntry(
      root,
      entry.path,
      ENTRY_ACCESS,
      plainDir ? NtDisposition.OpenIf : NtDisposition.Create,
      (dir ? NtOption.DirectoryFile : NtOption.NonDirectoryFile) | NtOption.OpenReparsePoint,
      true,
    );
    const ctx: unknown[] = [null];
    const done = [0];
    const write = (chunk: Uint8Array) => {
      for (let o = 0; o < chunk.length;) {
        const part = chunk.subarray(o, o + (1 << 20));
        // On this thread, not the libuv pool: GetLastError is per thread and must be read right after.
        if (!k.BackupWrite(h, part, part.length, done, 0, 1, ctx)) throw this.lastError(`write ${entry.path}`);
        o += part.length;
      }
    };
    let closed = false;
    const close = async (apply: boolean) => {
      if (closed) return;
      closed = true;
      try {
        k.BackupWrite(h, null, 0, done, 1, 1, ctx); // abort = TRUE frees the BackupWrite context
        if (apply && !k.SetFileInformationByHandle(h, FILE_BASIC_INFO_CLASS, basicInfo(entry.info), 40)) throw this.lastError(`set the times of ${entry.path}`);
      } finally {
        k.CloseHandle(h);
      }
    };
    try {
      write(backupStreamPrefix(entry));
      if (entry.type === 'file') for await (const c of sized(entry.body, entry.size, entry.path)) write(c);
    } catch (err) {
      await close(false).catch(() => undefined);
      throw err;
    }
    return {
      alternateStream: async (name: string, size: number, body: LayerBody) => {
        write(alternateStreamHeader(name, size));
        for await (const c of sized(body, size, `${entry.path}:${name}`)) write(c);
      },
      close: () => close(true),
    };
  }

  async setDirectoryTimes(root: string, entry: { path: string; info: WindowsFileInfo }): Promise<void> {
    const h = this.openEntry(root, entry.path, FILE_WRITE_ATTRIBUTES, NtDisposition.Open, NtOption.DirectoryFile | NtOption.OpenReparsePoint);
    if (h === undefined) throw new SiloError('Internal', `The folder ${entry.path} vanished during the import`);
    try {
      if (!this.api.SetFileInformationByHandle(h, FILE_BASIC_INFO_CLASS, basicInfo(entry.info), 40)) throw this.lastError(`set the times of ${entry.path}`);
    } finally {
      this.api.CloseHandle(h);
    }
  }

  /** hcsshim safefile.LinkRelative: the target opened safely, the new name set relative to its parent's handle. */
  async link(targetRoot: string, target: string, root: string, p: string): Promise<void> {
    this.enablePrivileges();
    // No OpenReparsePoint: a target that is itself a reparse point fails too.
    const file = this.openEntry(targetRoot, target, FILE_WRITE_ATTRIBUTES, NtDisposition.Open, 0, false, FILE_SHARE_ALL);
    if (file === undefined) throw invalidArgument(`The hard link ${JSON.stringify(p)} points to ${JSON.stringify(target)}, which does not exist`, 'the layer is corrupt');
    try {
      const parent = this.parentOf(root, p, true)!;
      try {
        // FILE_LINK_INFORMATION (x64): ReplaceIfExists @0, RootDirectory @8, FileNameLength @16, FileName @20.
        const name = Buffer.from(parent.leaf, 'utf16le');
        const info = Buffer.alloc(20 + name.length);
        info.writeBigUInt64LE(BigInt(koffi.address(parent.dir)), 8);
        info.writeUInt32LE(name.length, 16);
        name.copy(info, 20);
        const status = Number(this.nt.NtSetInformationFile(file, {}, info, info.length, FILE_LINK_INFORMATION_CLASS)) >>> 0;
        if (status !== 0) throw this.statusError('link', p, status);
      } finally {
        this.api.CloseHandle(parent.dir);
      }
    } finally {
      this.api.CloseHandle(file);
    }
  }

  async exists(root: string, p: string): Promise<boolean> {
    const h = this.openEntry(root, p, FILE_READ_ATTRIBUTES, NtDisposition.Open, NtOption.OpenReparsePoint, false, FILE_SHARE_ALL);
    if (h === undefined) return false;
    this.api.CloseHandle(h);
    return true;
  }

  async entryKind(root: string, p: string): Promise<'file' | 'directory' | 'reparsePoint' | undefined> {
    if (!(await this.exists(root, p))) return undefined;
    // The open above proved no reparse point lies on the way; lstat does not follow the last one.
    const st = await fs.lstat(joinLayerPath(root, p));
    return st.isSymbolicLink() ? 'reparsePoint' : st.isDirectory() ? 'directory' : 'file';
  }

  async makeDirectory(root: string, p: string): Promise<void> {
    this.enablePrivileges();
    const h = this.openEntry(root, p, FILE_READ_ATTRIBUTES, NtDisposition.OpenIf, NtOption.DirectoryFile, true);
    this.api.CloseHandle(h);
  }

  /** hcsshim cloneTree: the copies through BackupRead/BackupWrite (copyFileWithMetadata), then folder times children first. */
  async cloneTree(sourceRoot: string, root: string, p: string, copy: (path: string) => boolean): Promise<void> {
    this.enablePrivileges();
    if ((await this.entryKind(sourceRoot, p)) !== 'directory') throw invalidArgument(`${p} of ${sourceRoot} is not a plain folder`, 'the layer is damaged; pull the image again');
    const folders: Array<{ path: string; info: ReturnType<typeof basicInfo> }> = [];
    const walk = async (rel: string): Promise<void> => {
      const st = await fs.lstat(joinLayerPath(sourceRoot, rel));
      if (st.isDirectory() && !st.isSymbolicLink()) {
        folders.push({ path: rel, info: this.copyWithMetadata(sourceRoot, root, rel) });
        for (const name of (await fs.readdir(joinLayerPath(sourceRoot, rel))).sort()) await walk(`${rel}/${name}`);
      } else if (st.isSymbolicLink() || copy(rel)) {
        this.copyWithMetadata(sourceRoot, root, rel);
      } else {
        await this.link(sourceRoot, rel, root, rel);
      }
    };
    await walk(p);
    for (const f of folders.reverse()) {
      const h = this.openEntry(root, f.path, FILE_WRITE_ATTRIBUTES, NtDisposition.Open, NtOption.DirectoryFile | NtOption.OpenReparsePoint);
      try {
        if (!this.api.SetFileInformationByHandle(h, FILE_BASIC_INFO_CLASS, f.info, 40)) throw this.lastError(`set the times of ${f.path}`);
      } finally {
        this.api.CloseHandle(h);
      }
    }
  }

  /** One entry's backup streams, times and attributes, from sourceRoot to a new entry in root (hcsshim copyFileWithMetadata). */
  private copyWithMetadata(sourceRoot: string, root: string, rel: string): ReturnType<typeof basicInfo> {
    const k = this.api;
    if (!k.BackupRead || !k.GetFileInformationByHandleEx) throw new SiloError('Unavailable', 'kernel32.dll lacks BackupRead', 'Windows containers need Windows 10 1809 / Server 2019 or later');
    const src = this.openEntry(sourceRoot, rel, GENERIC_READ | ACCESS_SYSTEM_SECURITY, NtDisposition.Open, NtOption.OpenReparsePoint);
    if (src === undefined) throw new SiloError('Internal', `${rel} vanished from ${sourceRoot} while it was cloned`);
    const readCtx: unknown[] = [null];
    const writeCtx: unknown[] = [null];
    let dest: unknown;
    try {
      const info: Record<string, unknown> = {};
      if (!k.GetFileInformationByHandleEx(src, FILE_BASIC_INFO_CLASS, info, 40)) throw this.lastError(`read the times of ${rel}`);
      const basic = info as ReturnType<typeof basicInfo>;
      // A folder junction is a folder: the attributes say so, not what lstat calls it.
      const dir = (Number(basic.FileAttributes) & FileAttribute.Directory) !== 0;
      dest = this.openEntry(root, rel, ENTRY_ACCESS, NtDisposition.Create, (dir ? NtOption.DirectoryFile : NtOption.NonDirectoryFile) | NtOption.OpenReparsePoint, true);
      if (!k.SetFileInformationByHandle(dest, FILE_BASIC_INFO_CLASS, basic, 40)) throw this.lastError(`set the times of ${rel}`);
      const buf = Buffer.alloc(1 << 20);
      const n = [0];
      const written = [0];
      for (;;) {
        if (!k.BackupRead(src, buf, buf.length, n, 0, 1, readCtx)) throw this.lastError(`read ${rel}`);
        if (n[0] === 0) break;
        if (!k.BackupWrite(dest, buf.subarray(0, n[0]), n[0], written, 0, 1, writeCtx)) throw this.lastError(`write ${rel}`);
      }
      return basic;
    } finally {
      k.BackupRead(src, null, 0, [0], 1, 1, readCtx);
      if (dest !== undefined) {
        k.BackupWrite(dest, null, 0, [0], 1, 1, writeCtx);
        k.CloseHandle(dest);
      }
      k.CloseHandle(src);
    }
  }

  /** hcsshim safefile.RemoveAllRelative: a reparse point is removed itself, a real folder child by child. */
  async remove(root: string, p: string): Promise<boolean> {
    const h = this.openEntry(root, p, DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES, NtDisposition.Open, NtOption.OpenReparsePoint, false, FILE_SHARE_ALL);
    if (h === undefined) return false;
    try {
      // The walk above proved no reparse point lies on the way, and lstat does not follow the last one.
      const st = await fs.lstat(joinLayerPath(root, p));
      if (st.isDirectory() && !st.isSymbolicLink()) {
        for (const name of await fs.readdir(joinLayerPath(root, p))) await this.remove(root, `${p}/${name}`);
      }
      const info = Buffer.alloc(8);
      info.writeUInt32LE(FILE_DISPOSITION_DELETE | FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE, 0);
      const status = Number(this.nt.NtSetInformationFile(h, {}, info, info.length, FILE_DISPOSITION_INFORMATION_EX_CLASS)) >>> 0;
      if (status !== 0) throw this.statusError('remove', p, status);
    } finally {
      this.api.CloseHandle(h); // the delete happens here
    }
    return true;
  }
}
