// ntdll.dll RtlGetVersion: the true OS version, unaffected by manifest version lying (hcs.md §7).
import { loadLibrary } from './library';
import { hcsTypes, type NativeFunction } from './types';

export interface Ntdll {
  RtlGetVersion: NativeFunction;
}

export function loadNtdll(path = 'ntdll.dll'): Ntdll {
  hcsTypes();
  const lib = loadLibrary(path, 'Windows is required');
  return { RtlGetVersion: lib.func('int32 RtlGetVersion(_Inout_ RTL_OSVERSIONINFOW *info)') };
}
