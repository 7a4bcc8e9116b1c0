// vmcompute.dll layer ("graph driver") functions, as hcsshim declares them (hcs.md §2.2; not
// documented by Microsoft). Identity convention: DriverInfo { Flavour: 1 (filter), HomeDir: '' } and
// the full layer folder path as id (current hcsshim). Parent lists: immediate parent first.
import { loadLibrary } from './library';
import { hcsTypes, optionalFunc, type NativeFunction } from './types';

export interface Vmcompute {
  ActivateLayer: NativeFunction;
  DeactivateLayer: NativeFunction;
  PrepareLayer: NativeFunction;
  UnprepareLayer: NativeFunction;
  CreateSandboxLayer: NativeFunction;
  ExpandSandboxSize?: NativeFunction;
  DestroyLayer: NativeFunction;
  ImportLayer: NativeFunction;
  ExportLayer: NativeFunction;
  GetLayerMountPath: NativeFunction;
  LayerExists?: NativeFunction;
  NameToGuid: NativeFunction;
  ProcessBaseImage: NativeFunction;
  ProcessUtilityImage: NativeFunction;
  GrantVmAccess?: NativeFunction;
}

export const FILTER_DRIVER = 1;

export function loadVmcompute(path = 'vmcompute.dll'): Vmcompute {
  hcsTypes();
  const lib = loadLibrary(path, 'install the Windows Containers feature and restart');
  const f = (d: string) => lib.func(d);
  const opt = (d: string) => optionalFunc(lib, d);
  return {
    ActivateLayer: f('HRESULT ActivateLayer(DriverInfo *info, const char16_t *id)'),
    DeactivateLayer: f('HRESULT DeactivateLayer(DriverInfo *info, const char16_t *id)'),
    PrepareLayer: f('HRESULT PrepareLayer(DriverInfo *info, const char16_t *id, WC_LAYER_DESCRIPTOR *layers, uint32 count)'),
    UnprepareLayer: f('HRESULT UnprepareLayer(DriverInfo *info, const char16_t *id)'),
    CreateSandboxLayer: f('HRESULT CreateSandboxLayer(DriverInfo *info, const char16_t *id, const char16_t *parent, WC_LAYER_DESCRIPTOR *layers, uint32 count)'),
    ExpandSandboxSize: opt('HRESULT ExpandSandboxSize(DriverInfo *info, const char16_t *id, uint64 size)'),
    DestroyLayer: f('HRESULT DestroyLayer(DriverInfo *info, const char16_t *id)'),
    ImportLayer: f('HRESULT ImportLayer(DriverInfo *info, const char16_t *id, const char16_t *path, WC_LAYER_DESCRIPTOR *layers, uint32 count)'),
    ExportLayer: f('HRESULT ExportLayer(DriverInfo *info, const char16_t *id, const char16_t *path, WC_LAYER_DESCRIPTOR *layers, uint32 count)'),
    GetLayerMountPath: f('HRESULT GetLayerMountPath(DriverInfo *info, const char16_t *id, _Inout_ uintptr_t *length, void *buffer)'),
    LayerExists: opt('HRESULT LayerExists(DriverInfo *info, const char16_t *id, _Out_ uint32 *exists)'),
    NameToGuid: f('HRESULT NameToGuid(const char16_t *name, _Out_ GUID *guid)'),
    ProcessBaseImage: f('HRESULT ProcessBaseImage(const char16_t *path)'),
    ProcessUtilityImage: f('HRESULT ProcessUtilityImage(const char16_t *path)'),
    GrantVmAccess: opt('HRESULT GrantVmAccess(const char16_t *vmid, const char16_t *path)'),
  };
}

/** "{Data1-Data2-Data3-Data4[0..1]-Data4[2..7]}" without braces, lower case. */
export function guidToString(g: { Data1: number; Data2: number; Data3: number; Data4: number[] | Uint8Array }): string {
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
  const d4 = Array.from(g.Data4, (b) => hex(b, 2)).join('');
  return `${hex(g.Data1 >>> 0, 8)}-${hex(g.Data2, 4)}-${hex(g.Data3, 4)}-${d4.slice(0, 4)}-${d4.slice(4)}`;
}

export function guidFromString(s: string): { Data1: number; Data2: number; Data3: number; Data4: number[] } {
  const m = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i.exec(s);
  if (!m) throw new TypeError(`not a GUID: ${s}`);
  const d4 = (m[4] + m[5]).match(/../g)!.map((b) => parseInt(b, 16));
  return { Data1: parseInt(m[1], 16), Data2: parseInt(m[2], 16), Data3: parseInt(m[3], 16), Data4: d4 };
}
