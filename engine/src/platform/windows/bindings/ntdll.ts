// ntdll.dll: RtlGetVersion, the true OS version, unaffected by manifest version lying (hcs.md §7);
// and NtCreateFile / NtSetInformationFile for layer writes that never follow a reparse point: opens
// relative to a directory handle with OBJ_DONT_REPARSE, as hcsshim's safefile does since the
// CVE-2018-8115 fix (internal/safefile/safeopen.go, internal/winapi/filesystem.go; hcs.md §5.5).
import { loadLibrary } from './library';
import { hcsTypes, koffi, optionalFunc, type NativeFunction } from './types';

export interface Ntdll {
  RtlGetVersion: NativeFunction;
}

export function loadNtdll(path = 'ntdll.dll'): Ntdll {
  hcsTypes();
  const lib = loadLibrary(path, 'Windows is required');
  return { RtlGetVersion: lib.func('int32 RtlGetVersion(_Inout_ RTL_OSVERSIONINFOW *info)') };
}

/** The NT file calls of a relative open; undefined when the export is missing. */
export interface NtFiles {
  /** NTSTATUS NtCreateFile(PHANDLE, ACCESS_MASK, POBJECT_ATTRIBUTES, PIO_STATUS_BLOCK, PLARGE_INTEGER allocationSize, ULONG fileAttributes, ULONG share, ULONG disposition, ULONG options, PVOID ea, ULONG eaLength) */
  NtCreateFile?: NativeFunction;
  /** NTSTATUS NtSetInformationFile(HANDLE, PIO_STATUS_BLOCK, PVOID info, ULONG length, FILE_INFORMATION_CLASS) */
  NtSetInformationFile?: NativeFunction;
}

let declared = false;

/** UNICODE_STRING (16 bytes), OBJECT_ATTRIBUTES (48 bytes) and IO_STATUS_BLOCK (16 bytes), x64 layouts. */
function declareNtTypes(): void {
  if (declared) return;
  hcsTypes();
  koffi.struct('UNICODE_STRING', { Length: 'uint16', MaximumLength: 'uint16', Buffer: 'const char16_t *' });
  koffi.struct('OBJECT_ATTRIBUTES', {
    Length: 'uint32',
    RootDirectory: 'HANDLE',
    ObjectName: 'UNICODE_STRING *',
    Attributes: 'uint32',
    SecurityDescriptor: 'void *',
    SecurityQualityOfService: 'void *',
  });
  koffi.struct('IO_STATUS_BLOCK', { Status: 'uint64', Information: 'uint64' });
  declared = true;
}

export function loadNtFiles(path = 'ntdll.dll'): NtFiles {
  declareNtTypes();
  const lib = loadLibrary(path, 'Windows is required');
  return {
    NtCreateFile: optionalFunc(lib, 'uint32 NtCreateFile(_Out_ HANDLE *handle, uint32 access, OBJECT_ATTRIBUTES *oa, _Out_ IO_STATUS_BLOCK *iosb, void *allocationSize, uint32 fileAttributes, uint32 share, uint32 disposition, uint32 options, void *ea, uint32 eaLength)'),
    NtSetInformationFile: optionalFunc(lib, 'uint32 NtSetInformationFile(HANDLE h, _Out_ IO_STATUS_BLOCK *iosb, void *info, uint32 length, int32 infoClass)'),
  };
}

/** sizeof(OBJECT_ATTRIBUTES) on x64. */
export const OBJECT_ATTRIBUTES_SIZE = 48;
export const OBJ_DONT_REPARSE = 0x1000;

export const NtDisposition = { Open: 1, Create: 2, OpenIf: 3 } as const;
export const NtOption = {
  DirectoryFile: 0x1,
  SynchronousIoNonAlert: 0x20,
  NonDirectoryFile: 0x40,
  OpenForBackupIntent: 0x4000,
  OpenReparsePoint: 0x200000,
} as const;
export const FILE_LINK_INFORMATION_CLASS = 11;
export const FILE_DISPOSITION_INFORMATION_EX_CLASS = 64;
export const FILE_DISPOSITION_DELETE = 0x1;

export const NtStatus = {
  ObjectNameNotFound: 0xc0000034,
  ObjectPathNotFound: 0xc000003a,
  ObjectNameCollision: 0xc0000035,
  AccessDenied: 0xc0000022,
  PrivilegeNotHeld: 0xc0000061,
  ReparsePointEncountered: 0xc000050b,
  DirectoryNotEmpty: 0xc0000101,
  NotADirectory: 0xc0000103,
} as const;
