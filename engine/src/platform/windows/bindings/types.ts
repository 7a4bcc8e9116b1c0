// The koffi types every Windows binding shares (hcs.md §1.2, §2.2, §8). koffi names types in one
// process-wide registry, so they are declared once, lazily, here; only platform/windows imports koffi.
// Layouts are the x64 ones (the only architecture with Windows containers besides arm64, same layout).
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';

export type { LibraryHandle, TypeObject };
/** A bound native function; `.async(...args, cb)` runs it on the libuv pool. */
export type NativeFunction = ReturnType<LibraryHandle['func']>;

export interface HcsTypes {
  HCS_EVENT: TypeObject;
  HCS_PROCESS_INFORMATION: TypeObject;
  HCS_OPERATION_COMPLETION: TypeObject;
  HCS_EVENT_CALLBACK: TypeObject;
  GUID: TypeObject;
  DriverInfo: TypeObject;
  WC_LAYER_DESCRIPTOR: TypeObject;
  RTL_OSVERSIONINFOW: TypeObject;
  /** FILE_BASIC_INFO: four FILETIMEs (int64) and the attributes, 40 bytes. */
  FILE_BASIC_INFO: TypeObject;
}

let types: HcsTypes | undefined;

export function hcsTypes(): HcsTypes {
  if (types) return types;
  koffi.alias('HRESULT', 'int32');
  koffi.alias('DWORD', 'uint32');
  koffi.alias('BOOL', 'int32');
  for (const name of ['HANDLE', 'HCS_SYSTEM', 'HCS_PROCESS', 'HCS_OPERATION', 'HCN_NETWORK', 'HCN_ENDPOINT', 'HCN_NAMESPACE']) {
    koffi.pointer(name, koffi.opaque());
  }
  const GUID = koffi.struct('GUID', { Data1: 'uint32', Data2: 'uint16', Data3: 'uint16', Data4: koffi.array('uint8', 8) });
  types = {
    // size 24: Type (4 + 4 padding), EventData, Operation
    HCS_EVENT: koffi.struct('HCS_EVENT', { Type: 'uint32', EventData: 'void *', Operation: 'HCS_OPERATION' }),
    // size 32: ProcessId, Reserved, three HANDLEs
    HCS_PROCESS_INFORMATION: koffi.struct('HCS_PROCESS_INFORMATION', { ProcessId: 'uint32', Reserved: 'uint32', StdInput: 'HANDLE', StdOutput: 'HANDLE', StdError: 'HANDLE' }),
    HCS_OPERATION_COMPLETION: koffi.proto('void HCS_OPERATION_COMPLETION(HCS_OPERATION operation, void *context)'),
    HCS_EVENT_CALLBACK: koffi.proto('void HCS_EVENT_CALLBACK(HCS_EVENT *event, void *context)'),
    GUID,
    DriverInfo: koffi.struct('DriverInfo', { Flavour: 'int32', HomeDir: 'const char16_t *' }),
    WC_LAYER_DESCRIPTOR: koffi.struct('WC_LAYER_DESCRIPTOR', { LayerId: 'GUID', Flags: 'uint32', Path: 'const char16_t *' }),
    FILE_BASIC_INFO: koffi.struct('FILE_BASIC_INFO', { CreationTime: 'int64', LastAccessTime: 'int64', LastWriteTime: 'int64', ChangeTime: 'int64', FileAttributes: 'uint32' }),
    // 5 ULONGs + WCHAR[128] = 276 bytes
    RTL_OSVERSIONINFOW: koffi.struct('RTL_OSVERSIONINFOW', {
      dwOSVersionInfoSize: 'uint32',
      dwMajorVersion: 'uint32',
      dwMinorVersion: 'uint32',
      dwBuildNumber: 'uint32',
      dwPlatformId: 'uint32',
      szCSDVersion: koffi.array('char16_t', 128, 'String'),
    }),
  };
  return types;
}

/** A loaded library's function by declaration; undefined when the export is missing (older hosts). */
export function optionalFunc(lib: LibraryHandle, declaration: string): NativeFunction | undefined {
  try {
    return lib.func(declaration);
  } catch {
    return undefined;
  }
}

export { koffi };
