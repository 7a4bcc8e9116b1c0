// computecore.dll, the HCS v2 API (hcs.md §1.4; learn.microsoft.com/virtualization/api/hcs/reference).
// Raw declarations only: strings are UTF-16, handles opaque BigInts, result documents `void **` that
// the caller decodes and frees with LocalFree (kernel32.takeString). Exports added after Windows
// Server 2019 are optional. The path is injectable so the contract test can load a fixture.
import { loadLibrary } from './library';
import { hcsTypes, optionalFunc, type NativeFunction } from './types';

export interface ComputeCore {
  HcsCreateOperation: NativeFunction;
  HcsCloseOperation: NativeFunction;
  HcsGetOperationResult: NativeFunction;
  HcsGetOperationResultAndProcessInfo: NativeFunction;
  HcsWaitForOperationResult: NativeFunction;
  HcsWaitForOperationResultAndProcessInfo: NativeFunction;
  HcsCancelOperation?: NativeFunction;
  HcsCreateComputeSystem: NativeFunction;
  HcsOpenComputeSystem: NativeFunction;
  HcsCloseComputeSystem: NativeFunction;
  HcsStartComputeSystem: NativeFunction;
  HcsShutDownComputeSystem: NativeFunction;
  HcsTerminateComputeSystem: NativeFunction;
  HcsGetComputeSystemProperties: NativeFunction;
  HcsModifyComputeSystem?: NativeFunction;
  HcsSetComputeSystemCallback: NativeFunction;
  HcsEnumerateComputeSystems: NativeFunction;
  HcsCreateProcess: NativeFunction;
  HcsOpenProcess?: NativeFunction;
  HcsCloseProcess: NativeFunction;
  HcsTerminateProcess: NativeFunction;
  HcsSignalProcess: NativeFunction;
  HcsGetProcessInfo: NativeFunction;
  HcsGetProcessProperties: NativeFunction;
  HcsModifyProcess: NativeFunction;
  HcsSetProcessCallback: NativeFunction;
  HcsGetServiceProperties?: NativeFunction;
  /** Windows Server 2022 and later only. */
  HcsWaitForComputeSystemExit?: NativeFunction;
  HcsWaitForProcessExit?: NativeFunction;
}

export const INFINITE = 0xffffffff;
export const GENERIC_ALL = 0x10000000;
export const HcsEventType = {
  SystemExited: 0x1,
  SystemCrashInitiated: 0x2,
  SystemCrashReport: 0x3,
  SystemGuestConnectionClosed: 0x6,
  ProcessExited: 0x00010000,
  OperationCallback: 0x01000000,
  ServiceDisconnect: 0x02000000,
} as const;
export const HCS_EVENT_OPTION_NONE = 0;

export function loadComputeCore(path = 'computecore.dll'): ComputeCore {
  hcsTypes();
  const lib = loadLibrary(path, 'install the Windows Containers feature (Windows 10 1809 / Server 2019 or later) and restart');
  const f = (d: string) => lib.func(d);
  const opt = (d: string) => optionalFunc(lib, d);
  return {
    HcsCreateOperation: f('HCS_OPERATION HcsCreateOperation(void *context, HCS_OPERATION_COMPLETION *callback)'),
    HcsCloseOperation: f('void HcsCloseOperation(HCS_OPERATION operation)'),
    HcsGetOperationResult: f('HRESULT HcsGetOperationResult(HCS_OPERATION operation, _Out_ void **resultDocument)'),
    HcsGetOperationResultAndProcessInfo: f('HRESULT HcsGetOperationResultAndProcessInfo(HCS_OPERATION operation, _Out_ HCS_PROCESS_INFORMATION *processInformation, _Out_ void **resultDocument)'),
    HcsWaitForOperationResult: f('HRESULT HcsWaitForOperationResult(HCS_OPERATION operation, DWORD timeoutMs, _Out_ void **resultDocument)'),
    HcsWaitForOperationResultAndProcessInfo: f('HRESULT HcsWaitForOperationResultAndProcessInfo(HCS_OPERATION operation, DWORD timeoutMs, _Out_ HCS_PROCESS_INFORMATION *processInformation, _Out_ void **resultDocument)'),
    HcsCancelOperation: opt('HRESULT HcsCancelOperation(HCS_OPERATION operation)'),
    HcsCreateComputeSystem: f('HRESULT HcsCreateComputeSystem(const char16_t *id, const char16_t *configuration, HCS_OPERATION operation, void *securityDescriptor, _Out_ HCS_SYSTEM *computeSystem)'),
    HcsOpenComputeSystem: f('HRESULT HcsOpenComputeSystem(const char16_t *id, DWORD requestedAccess, _Out_ HCS_SYSTEM *computeSystem)'),
    HcsCloseComputeSystem: f('void HcsCloseComputeSystem(HCS_SYSTEM computeSystem)'),
    HcsStartComputeSystem: f('HRESULT HcsStartComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation, const char16_t *options)'),
    HcsShutDownComputeSystem: f('HRESULT HcsShutDownComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation, const char16_t *options)'),
    HcsTerminateComputeSystem: f('HRESULT HcsTerminateComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation, const char16_t *options)'),
    HcsGetComputeSystemProperties: f('HRESULT HcsGetComputeSystemProperties(HCS_SYSTEM computeSystem, HCS_OPERATION operation, const char16_t *propertyQuery)'),
    HcsModifyComputeSystem: opt('HRESULT HcsModifyComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation, const char16_t *configuration, HANDLE identity)'),
    HcsSetComputeSystemCallback: f('HRESULT HcsSetComputeSystemCallback(HCS_SYSTEM computeSystem, uint32 callbackOptions, void *context, HCS_EVENT_CALLBACK *callback)'),
    HcsEnumerateComputeSystems: f('HRESULT HcsEnumerateComputeSystems(const char16_t *query, HCS_OPERATION operation)'),
    HcsCreateProcess: f('HRESULT HcsCreateProcess(HCS_SYSTEM computeSystem, const char16_t *processParameters, HCS_OPERATION operation, void *securityDescriptor, _Out_ HCS_PROCESS *process)'),
    HcsOpenProcess: opt('HRESULT HcsOpenProcess(HCS_SYSTEM computeSystem, DWORD processId, DWORD requestedAccess, _Out_ HCS_PROCESS *process)'),
    HcsCloseProcess: f('void HcsCloseProcess(HCS_PROCESS process)'),
    HcsTerminateProcess: f('HRESULT HcsTerminateProcess(HCS_PROCESS process, HCS_OPERATION operation, const char16_t *options)'),
    HcsSignalProcess: f('HRESULT HcsSignalProcess(HCS_PROCESS process, HCS_OPERATION operation, const char16_t *options)'),
    HcsGetProcessInfo: f('HRESULT HcsGetProcessInfo(HCS_PROCESS process, HCS_OPERATION operation)'),
    HcsGetProcessProperties: f('HRESULT HcsGetProcessProperties(HCS_PROCESS process, HCS_OPERATION operation, const char16_t *propertyQuery)'),
    HcsModifyProcess: f('HRESULT HcsModifyProcess(HCS_PROCESS process, HCS_OPERATION operation, const char16_t *settings)'),
    HcsSetProcessCallback: f('HRESULT HcsSetProcessCallback(HCS_PROCESS process, uint32 callbackOptions, void *context, HCS_EVENT_CALLBACK *callback)'),
    HcsGetServiceProperties: opt('HRESULT HcsGetServiceProperties(const char16_t *propertyQuery, _Out_ void **result)'),
    HcsWaitForComputeSystemExit: opt('HRESULT HcsWaitForComputeSystemExit(HCS_SYSTEM computeSystem, DWORD timeoutMs, _Out_ void **result)'),
    HcsWaitForProcessExit: opt('HRESULT HcsWaitForProcessExit(HCS_PROCESS process, DWORD timeoutMs, _Out_ void **result)'),
  };
}
