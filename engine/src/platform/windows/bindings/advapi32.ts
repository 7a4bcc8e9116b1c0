// advapi32.dll: enabling SeBackupPrivilege / SeRestorePrivilege / SeSecurityPrivilege for layer
// import and export (hcs.md §8; Docker does it in a child process so they do not stay enabled).
import { loadLibrary } from './library';
import { hcsTypes, koffi, type NativeFunction } from './types';

export interface Advapi32 {
  OpenProcessToken: NativeFunction;
  LookupPrivilegeValueW: NativeFunction;
  AdjustTokenPrivileges: NativeFunction;
}

export const TOKEN_ADJUST_PRIVILEGES = 0x20;
export const TOKEN_QUERY = 0x8;
export const SE_PRIVILEGE_ENABLED = 0x2;

let declared = false;

export function loadAdvapi32(path = 'advapi32.dll'): Advapi32 {
  hcsTypes();
  const lib = loadLibrary(path, 'Windows is required');
  // koffi type names are process-wide: declared once.
  if (!declared) {
    koffi.struct('LUID_AND_ATTRIBUTES', { Luid: 'uint64', Attributes: 'uint32' });
    koffi.struct('TOKEN_PRIVILEGES_1', { PrivilegeCount: 'uint32', Privileges: koffi.array('LUID_AND_ATTRIBUTES', 1) });
    declared = true;
  }
  return {
    OpenProcessToken: lib.func('BOOL OpenProcessToken(HANDLE process, DWORD access, _Out_ HANDLE *token)'),
    LookupPrivilegeValueW: lib.func('BOOL LookupPrivilegeValueW(const char16_t *system, const char16_t *name, _Out_ uint64 *luid)'),
    AdjustTokenPrivileges: lib.func('BOOL AdjustTokenPrivileges(HANDLE token, BOOL disableAll, TOKEN_PRIVILEGES_1 *state, DWORD len, void *prev, void *retLen)'),
  };
}
