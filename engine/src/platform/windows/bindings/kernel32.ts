// kernel32.dll: LocalFree for the strings HCS returns (the docs' allocator; never koffi.free, a
// different CRT), CloseHandle, and BackupRead/BackupWrite for base-layer import and export.
import { loadLibrary } from './library';
import { hcsTypes, koffi, optionalFunc, type NativeFunction } from './types';

export interface Kernel32 {
  LocalFree(p: unknown): unknown;
  CloseHandle(h: unknown): number;
  BackupRead?: NativeFunction;
  BackupWrite?: NativeFunction;
  CreateFileW?: NativeFunction;
  CreateDirectoryW?: NativeFunction;
  SetFileInformationByHandle?: NativeFunction;
  GetFileInformationByHandleEx?: NativeFunction;
  GetLastError?: NativeFunction;
  GetCurrentProcess?: NativeFunction;
}

/** `path` is injectable so a contract test can load a fixture that exports the same names. */
export function loadKernel32(path = 'kernel32.dll'): Kernel32 {
  hcsTypes();
  const lib = loadLibrary(path, 'Windows is required');
  return {
    LocalFree: lib.func('void *LocalFree(void *mem)'),
    CloseHandle: (optionalFunc(lib, 'BOOL CloseHandle(HANDLE h)') ?? (() => 1)) as (h: unknown) => number,
    // BOOL BackupRead(HANDLE, LPBYTE, DWORD, LPDWORD, BOOL bAbort, BOOL bProcessSecurity, LPVOID *ctx)
    // The buffer is a Node Buffer BackupRead fills in place.
    BackupRead: optionalFunc(lib, 'BOOL BackupRead(HANDLE h, void *buf, DWORD n, _Out_ DWORD *done, BOOL abort, BOOL security, _Inout_ void **ctx)'),
    BackupWrite: optionalFunc(lib, 'BOOL BackupWrite(HANDLE h, const uint8_t *buf, DWORD n, _Out_ DWORD *done, BOOL abort, BOOL security, _Inout_ void **ctx)'),
    CreateFileW: optionalFunc(lib, 'HANDLE CreateFileW(const char16_t *name, DWORD access, DWORD share, void *security, DWORD disposition, DWORD flags, HANDLE template)'),
    CreateDirectoryW: optionalFunc(lib, 'BOOL CreateDirectoryW(const char16_t *path, void *security)'),
    // FileBasicInfo = 0
    SetFileInformationByHandle: optionalFunc(lib, 'BOOL SetFileInformationByHandle(HANDLE h, int32 infoClass, FILE_BASIC_INFO *info, DWORD size)'),
    GetFileInformationByHandleEx: optionalFunc(lib, 'BOOL GetFileInformationByHandleEx(HANDLE h, int32 infoClass, _Out_ FILE_BASIC_INFO *info, DWORD size)'),
    GetLastError: optionalFunc(lib, 'DWORD GetLastError()'),
    GetCurrentProcess: optionalFunc(lib, 'HANDLE GetCurrentProcess()'),
  };
}

/** A result string (PWSTR) HCS allocated: decoded, then freed with the library's LocalFree. */
export function takeString(ptr: unknown, free: (p: unknown) => unknown): string | undefined {
  if (ptr === null || ptr === undefined || ptr === 0n) return undefined;
  try {
    return koffi.decode.string16(ptr);
  } finally {
    free(ptr);
  }
}
