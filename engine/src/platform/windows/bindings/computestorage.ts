// computestorage.dll, the documented layer API (hcs.md §3). Silo imports and mounts layers with the
// vmcompute sequence Docker and containerd ship; these are bound for HcsFormatWritableLayerVhd and
// the documented export, all optional so older hosts load.
import { loadLibrary } from './library';
import { hcsTypes, optionalFunc, type NativeFunction } from './types';

export interface ComputeStorage {
  HcsImportLayer?: NativeFunction;
  HcsExportLayer?: NativeFunction;
  HcsDestroyLayer?: NativeFunction;
  HcsFormatWritableLayerVhd?: NativeFunction;
  HcsGetLayerVhdMountPath?: NativeFunction;
  HcsSetupBaseOSLayer?: NativeFunction;
}

export function loadComputeStorage(path = 'computestorage.dll'): ComputeStorage {
  hcsTypes();
  const lib = loadLibrary(path, 'install the Windows Containers feature and restart');
  const opt = (d: string) => optionalFunc(lib, d);
  return {
    HcsImportLayer: opt('HRESULT HcsImportLayer(const char16_t *layerPath, const char16_t *sourceFolderPath, const char16_t *layerData)'),
    HcsExportLayer: opt('HRESULT HcsExportLayer(const char16_t *layerPath, const char16_t *exportFolderPath, const char16_t *layerData, const char16_t *options)'),
    HcsDestroyLayer: opt('HRESULT HcsDestroyLayer(const char16_t *layerPath)'),
    HcsFormatWritableLayerVhd: opt('HRESULT HcsFormatWritableLayerVhd(HANDLE vhdHandle)'),
    HcsGetLayerVhdMountPath: opt('HRESULT HcsGetLayerVhdMountPath(HANDLE vhdHandle, _Out_ void **mountPath)'),
    HcsSetupBaseOSLayer: opt('HRESULT HcsSetupBaseOSLayer(const char16_t *layerPath, HANDLE vhdHandle, const char16_t *options)'),
  };
}
