// LayerFileWriter on Windows: what hcsshim's baseLayerWriter does (internal/wclayer/baselayerwriter.go,
// go-winio backup.go). Each entry is opened with backup semantics and WRITE_DAC | WRITE_OWNER |
// ACCESS_SYSTEM_SECURITY, its backup stream (security, EAs, reparse data, data, alternate streams)
// goes through BackupWrite, and its times and attributes are set last with SetFileInformationByHandle.
// Needs an elevated engine with SeBackupPrivilege, SeRestorePrivilege and SeSecurityPrivilege, which
// the first write enables (Docker enables them in a re-exec'd child; the engine keeps them).
//
// Paths: the importer only hands over names the layer tar reader checked (no '..', ':' or device
// names, nothing through a reparse point of the same tar) and creates reparse points last, and the
// layer folder is new; every walk below additionally refuses to pass through a link or junction.
// hcsshim goes further with NtCreateFile relative opens and OBJ_DONT_REPARSE (safefile); that needs
// ntdll bindings Silo does not have yet.
import * as fs from 'node:fs/promises';
import { permissionDenied, SiloError } from '../../../errors';
import { loadAdvapi32, SE_PRIVILEGE_ENABLED, TOKEN_ADJUST_PRIVILEGES, TOKEN_QUERY } from '../bindings/advapi32';
import { loadKernel32, type Kernel32 } from '../bindings/kernel32';
import { koffi } from '../bindings/types';
import { alternateStreamHeader, backupStreamPrefix, FileAttribute, sized, toFileTime, type LayerBody, type WindowsFileInfo } from '../layerTar';
import { joinLayerPath } from './importLayer';
import type { CreatedEntry, LayerFileHandle, LayerFileWriter } from './layerFiles';

const GENERIC_READ = 0x80000000;
const GENERIC_WRITE = 0x40000000;
const WRITE_DAC = 0x40000;
const WRITE_OWNER = 0x80000;
const ACCESS_SYSTEM_SECURITY = 0x1000000;
const FILE_SHARE_READ = 1;
const CREATE_NEW = 1;
const OPEN_EXISTING = 3;
const FILE_FLAG_BACKUP_SEMANTICS = 0x02000000;
const FILE_FLAG_OPEN_REPARSE_POINT = 0x00200000;
const FILE_BASIC_INFO_CLASS = 0;
const ERROR_ALREADY_EXISTS = 183;

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

export class BackupFileWriter implements LayerFileWriter {
  private k32: Required<Kernel32> | undefined; // the functions this writer uses are all present
  private privileged = false;

  constructor(private readonly kernel32Path = 'kernel32.dll', private readonly advapi32Path = 'advapi32.dll') {}

  private get api(): Required<Kernel32> {
    if (!this.k32) {
      const k = loadKernel32(this.kernel32Path);
      const needed = ['BackupWrite', 'CreateFileW', 'CreateDirectoryW', 'SetFileInformationByHandle', 'GetLastError', 'GetCurrentProcess'] as const;
      for (const name of needed) if (!k[name]) throw new SiloError('Unavailable', `kernel32.dll lacks ${name}`, 'Windows containers need Windows 10 1809 / Server 2019 or later');
      this.k32 = k as Required<Kernel32>;
    }
    return this.k32;
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

  /** root + rel, refusing to pass through a link or junction on the way (the last component is not followed by the open). */
  private async resolve(root: string, rel: string, makeParents = false): Promise<string> {
    const parts = rel.split('/');
    let p = root;
    for (const [i, c] of parts.entries()) {
      p = joinLayerPath(p, c);
      if (i === parts.length - 1) break;
      const st = await fs.lstat(p).catch(() => undefined);
      if (st?.isSymbolicLink()) throw new SiloError('InvalidArgument', `The layer entry ${JSON.stringify(rel)} goes through a reparse point`, 'the image is malformed or hostile; do not use it');
      if (!st && makeParents) await fs.mkdir(p);
    }
    return p;
  }

  private open(abs: string, dir: boolean): unknown {
    const k = this.api;
    if (dir && !k.CreateDirectoryW(abs, null) && Number(k.GetLastError()) !== ERROR_ALREADY_EXISTS) throw this.lastError(`create the folder ${abs}`);
    const h = k.CreateFileW(
      abs,
      GENERIC_READ | GENERIC_WRITE | WRITE_DAC | WRITE_OWNER | ACCESS_SYSTEM_SECURITY,
      FILE_SHARE_READ,
      null,
      dir ? OPEN_EXISTING : CREATE_NEW,
      FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT,
      null,
    );
    if (h === null || koffi.address(h) === 0xffffffffffffffffn) throw this.lastError(`create ${abs}`);
    return h;
  }

  async create(root: string, entry: CreatedEntry): Promise<LayerFileHandle> {
    this.enablePrivileges();
    const abs = await this.resolve(root, entry.path, true);
    const dir = entry.type === 'directory' || (entry.info.attributes & FileAttribute.Directory) !== 0;
    const k = this.api;
    const h = this.open(abs, dir);
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
    const abs = await this.resolve(root, entry.path);
    const h = this.open(abs, true);
    try {
      if (!this.api.SetFileInformationByHandle(h, FILE_BASIC_INFO_CLASS, basicInfo(entry.info), 40)) throw this.lastError(`set the times of ${entry.path}`);
    } finally {
      this.api.CloseHandle(h);
    }
  }

  async link(targetRoot: string, target: string, root: string, p: string): Promise<void> {
    await fs.link(await this.resolve(targetRoot, target), await this.resolve(root, p, true));
  }

  async exists(root: string, p: string): Promise<boolean> {
    return (await fs.lstat(await this.resolve(root, p)).catch(() => undefined)) !== undefined;
  }

  async remove(root: string, p: string): Promise<boolean> {
    const abs = await this.resolve(root, p);
    if (!(await fs.lstat(abs).catch(() => undefined))) return false;
    // fs.rm removes a junction or symlink itself and never follows it.
    await fs.rm(abs, { recursive: true, force: true });
    return true;
  }
}
