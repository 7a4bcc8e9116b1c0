// One entry of a Windows layer, the same whether it came from a layer tar, a transport folder or a
// base-layer walk. Paths are layer-relative with '/' separators and no trailing slash:
// `Files/Windows/System32/x.dll`, `Hives/System_Delta`, `UtilityVM/Files/EFI/...`.
import type { ExtendedAttribute } from './extendedAttributes';

/** Win32 FILE_ATTRIBUTE_* bits the format cares about. */
export const FileAttribute = {
  ReadOnly: 0x1,
  Hidden: 0x2,
  System: 0x4,
  Directory: 0x10,
  Archive: 0x20,
  Normal: 0x80,
  SparseFile: 0x200,
  ReparsePoint: 0x400,
} as const;

/** FILE_BASIC_INFO plus security, in the units a tar carries: times are nanoseconds since 1970. */
export interface WindowsFileInfo {
  attributes: number;
  lastWriteTime: bigint;
  creationTime?: bigint;
  lastAccessTime?: bigint;
  changeTime?: bigint;
  /** Self-relative binary security descriptor (MSWINDOWS.rawsd). */
  securityDescriptor?: Buffer;
  /** Legacy SDDL form (MSWINDOWS.sd), read only, when rawsd is absent. */
  sddl?: string;
  extendedAttributes?: ExtendedAttribute[];
}

/** A file's or stream's bytes: read it whole, once (a Node Readable is an AsyncIterable too). */
export type LayerBody = AsyncIterable<Uint8Array> | Buffer;

export type LayerEntry =
  | { type: 'directory'; path: string; info: WindowsFileInfo }
  | { type: 'file'; path: string; info: WindowsFileInfo; size: number; body: LayerBody }
  | { type: 'reparsePoint'; path: string; info: WindowsFileInfo; target: string; mountPoint: boolean }
  | { type: 'hardLink'; path: string; target: string }
  /** `path` is `<file>:<stream>`; always right after its file. */
  | { type: 'alternateStream'; path: string; size: number; body: LayerBody }
  /** `path` is what is deleted; the tar spells it `<dir>/.wh.<name>`. */
  | { type: 'whiteout'; path: string };

/** FILETIME (100 ns since 1601) <-> nanoseconds since 1970. */
const EPOCH_DIFF_100NS = 116444736000000000n;
export const toFileTime = (ns: bigint): bigint => ns / 100n + EPOCH_DIFF_100NS;
export const fromFileTime = (ft: bigint): bigint => (ft - EPOCH_DIFF_100NS) * 100n;
