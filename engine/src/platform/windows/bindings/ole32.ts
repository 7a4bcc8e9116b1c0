// ole32.dll: CoTaskMemFree, the allocator of every string computenetwork.dll returns (hcsshim
// interop.ConvertAndFreeCoTaskMemString). The path is injectable for the contract test's fixture.
import { loadLibrary } from './library';
import { hcsTypes } from './types';

export interface Ole32 {
  CoTaskMemFree(p: unknown): void;
}

export function loadOle32(path = 'ole32.dll'): Ole32 {
  hcsTypes();
  const lib = loadLibrary(path, 'Windows is required');
  return { CoTaskMemFree: lib.func('void CoTaskMemFree(void *p)') };
}
