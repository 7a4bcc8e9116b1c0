// HRESULTs from HCS, HCN and the layer API, and the one error type they become (hcsshim
// internal/hcs/errors.go pattern: { op, hr, events }). Codes and meanings from the HCS docs
// (HCSHResult.md) and hcsshim; HCS facility codes arrive as HRESULT (0x8037xxxx, computecore) or
// NTSTATUS-style (0xC037xxxx, v1 / Docker messages) and are compared as one.
import { SiloError, type ErrorKind } from '../../errors';
import { parseResultError, resultErrorMessages } from './documents/results';

interface HResultMeaning {
  name: string;
  kind: ErrorKind;
  /** What went wrong, as the user should read it. */
  message: string;
  hint?: string;
}

const HYPERV_OR_MATCHING = 'run it with --isolation hyperv or use a base image that matches this host (silo info shows the host build)';

export const HResultTable: Readonly<Record<number, HResultMeaning>> = {
  0x80370100: { name: 'HCS_E_TERMINATED_DURING_START', kind: 'Internal', message: 'The container exited while it was starting' },
  0x80370101: { name: 'HCS_E_IMAGE_MISMATCH', kind: 'FailedPrecondition', message: 'The operating system of the container does not match the host', hint: HYPERV_OR_MATCHING },
  0x80370102: { name: 'HCS_E_HYPERV_NOT_INSTALLED', kind: 'Unavailable', message: 'Hyper-V is not installed or not enabled on this host', hint: 'enable the Hyper-V feature, or use --isolation process' },
  0x80370105: { name: 'HCS_E_INVALID_STATE', kind: 'FailedPrecondition', message: 'The container is not in a state that allows this operation' },
  0x80370106: { name: 'HCS_E_UNEXPECTED_EXIT', kind: 'Internal', message: 'The container exited unexpectedly' },
  0x80370107: { name: 'HCS_E_TERMINATED', kind: 'FailedPrecondition', message: 'The container was forcefully stopped' },
  0x80370108: { name: 'HCS_E_CONNECT_FAILED', kind: 'Unavailable', message: 'HCS could not connect to the container' },
  0x80370109: { name: 'HCS_E_CONNECTION_TIMEOUT', kind: 'Unavailable', message: 'The container did not answer in time' },
  0x8037010a: { name: 'HCS_E_CONNECTION_CLOSED', kind: 'Unavailable', message: 'The connection to the container was closed' },
  0x8037010b: { name: 'HCS_E_UNKNOWN_MESSAGE', kind: 'NotImplemented', message: 'The container does not support this request', hint: 'use a newer base image' },
  0x8037010c: { name: 'HCS_E_UNSUPPORTED_PROTOCOL_VERSION', kind: 'NotImplemented', message: 'The container speaks a protocol version this host does not support' },
  0x8037010d: { name: 'HCS_E_INVALID_JSON', kind: 'InvalidArgument', message: 'HCS rejected the container configuration', hint: 'report this with the error details; the host build may be older than the document' },
  0x8037010e: { name: 'HCS_E_SYSTEM_NOT_FOUND', kind: 'NotFound', message: 'HCS has no such container' },
  0x8037010f: { name: 'HCS_E_SYSTEM_ALREADY_EXISTS', kind: 'AlreadyExists', message: 'A compute system with this id already exists', hint: 'remove the container left over from an earlier run' },
  0x80370110: { name: 'HCS_E_SYSTEM_ALREADY_STOPPED', kind: 'FailedPrecondition', message: 'The container is already stopped' },
  0x80370111: { name: 'HCS_E_PROTOCOL_ERROR', kind: 'Internal', message: 'HCS and the container disagreed on the protocol' },
  0x80370112: { name: 'HCS_E_INVALID_LAYER', kind: 'InvalidArgument', message: 'The image contains a layer in a format HCS does not recognise', hint: 'pull the image again' },
  0x80370113: { name: 'HCS_E_WINDOWS_INSIDER_REQUIRED', kind: 'FailedPrecondition', message: 'The image needs a Windows Insider build' },
  0x80370114: { name: 'HCS_E_SERVICE_NOT_AVAILABLE', kind: 'Unavailable', message: 'The Host Compute Service is not available', hint: 'install the Containers feature (and Hyper-V for --isolation hyperv) and restart' },
  0x80370115: { name: 'HCS_E_OPERATION_NOT_STARTED', kind: 'Internal', message: 'The HCS operation was never started' },
  0x80370116: { name: 'HCS_E_OPERATION_ALREADY_STARTED', kind: 'Internal', message: 'The HCS operation handle was already used' },
  0x80370117: { name: 'HCS_E_OPERATION_PENDING', kind: 'Internal', message: 'The HCS operation is still running' },
  0x80370118: { name: 'HCS_E_OPERATION_TIMEOUT', kind: 'Unavailable', message: 'HCS did not finish the operation in time', hint: 'the host may be overloaded; try again' },
  0x80370119: { name: 'HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET', kind: 'Internal', message: 'An HCS event callback is already registered' },
  0x8037011a: { name: 'HCS_E_OPERATION_RESULT_ALLOCATION_FAILED', kind: 'Internal', message: 'HCS ran out of memory for the result' },
  0x8037011b: { name: 'HCS_E_ACCESS_DENIED', kind: 'PermissionDenied', message: 'Running containers needs Administrator or Hyper-V Administrators membership', hint: 'run the engine elevated (https://aka.ms/hcsadmin)' },
  0x8037011c: { name: 'HCS_E_GUEST_CRITICAL_ERROR', kind: 'Internal', message: 'The container hit a critical error and was stopped' },
  0x8037011d: { name: 'HCS_E_PROCESS_INFO_NOT_AVAILABLE', kind: 'Unavailable', message: 'HCS has no information about that process' },
  0x8037011e: { name: 'HCS_E_SERVICE_DISCONNECT', kind: 'Unavailable', message: 'The Host Compute Service stopped', hint: 'restart the vmcompute service; running containers were lost' },
  0x8037011f: { name: 'HCS_E_PROCESS_ALREADY_STOPPED', kind: 'FailedPrecondition', message: 'The process has already exited' },
  0x80370120: { name: 'HCS_E_SYSTEM_NOT_CONFIGURED_FOR_OPERATION', kind: 'FailedPrecondition', message: 'The container is not configured for this operation' },
  0x80370121: { name: 'HCS_E_OPERATION_ALREADY_CANCELLED', kind: 'Canceled', message: 'The HCS operation was already cancelled' },
  0x80070005: { name: 'E_ACCESSDENIED', kind: 'PermissionDenied', message: 'Access is denied', hint: 'run the engine elevated' },
  0x80070032: { name: 'ERROR_NOT_SUPPORTED', kind: 'Unavailable', message: 'The request is not supported on this host', hint: 'make sure the Containers feature (and Hyper-V for --isolation hyperv) is enabled' },
  0x8007000d: { name: 'ERROR_INVALID_DATA', kind: 'InvalidArgument', message: 'The request is not valid on this host' },
  0x80070490: { name: 'ERROR_ELEMENT_NOT_FOUND', kind: 'NotFound', message: 'The object no longer exists' },
  0x80070006: { name: 'ERROR_INVALID_HANDLE', kind: 'FailedPrecondition', message: 'The handle was already closed' },
  0x8007007f: { name: 'ERROR_PROC_NOT_FOUND', kind: 'NotImplemented', message: 'This Windows build lacks a function Silo needs', hint: 'update Windows' },
  0x8007007e: { name: 'ERROR_MOD_NOT_FOUND', kind: 'Unavailable', message: 'The Windows container libraries are missing', hint: 'install the Containers feature and restart' },
  0x80070015: { name: 'ERROR_NOT_READY', kind: 'Unavailable', message: 'The layer device is not ready', hint: 'try again' },
  0x8007048f: { name: 'ERROR_DEVICE_NOT_CONNECTED', kind: 'Unavailable', message: 'The layer device is not connected', hint: 'try again' },
  0x80070003: { name: 'ERROR_PATH_NOT_FOUND', kind: 'NotFound', message: 'A layer path was not found' },
  0x8007006d: { name: 'ERROR_BROKEN_PIPE', kind: 'Unavailable', message: 'The pipe was closed' },
  // HCN (hcsshim hcn/hcnerrors.go; winerror.h HCN_E_*)
  0x803b0001: { name: 'HCN_E_NETWORK_NOT_FOUND', kind: 'NotFound', message: 'The container network does not exist', hint: 'restart the engine to re-create it' },
  0x803b0002: { name: 'HCN_E_ENDPOINT_NOT_FOUND', kind: 'NotFound', message: 'The container network endpoint does not exist' },
  0x803b0010: { name: 'HCN_E_NETWORK_ALREADY_EXISTS', kind: 'AlreadyExists', message: 'A network with this name already exists' },
  0x803b0013: { name: 'HCN_E_PORT_ALREADY_EXISTS', kind: 'FailedPrecondition', message: 'The host port is already published', hint: 'publish a different host port with -p' },
  0x80004001: { name: 'E_NOTIMPL', kind: 'NotImplemented', message: 'HCS does not implement this call' },
};

/** Unsigned, with NTSTATUS-style HCS codes (0xC037xxxx) folded onto their HRESULT form. */
export function normalizeHResult(hr: number): number {
  const u = hr >>> 0;
  if ((u & 0x0fff0000) === 0x00370000) return (0x80370000 | (u & 0xffff)) >>> 0;
  return u;
}

export const formatHResult = (hr: number) => '0x' + (hr >>> 0).toString(16).padStart(8, '0');

export const HR = {
  S_OK: 0,
  IMAGE_MISMATCH: 0x80370101,
  INVALID_STATE: 0x80370105,
  SYSTEM_NOT_FOUND: 0x8037010e,
  SYSTEM_ALREADY_EXISTS: 0x8037010f,
  SYSTEM_ALREADY_STOPPED: 0x80370110,
  OPERATION_PENDING: 0x80370117,
  OPERATION_TIMEOUT: 0x80370118,
  PROCESS_ALREADY_STOPPED: 0x8037011f,
  V1_OPERATION_PENDING: 0xc0370103,
  ELEMENT_NOT_FOUND: 0x80070490,
  INVALID_HANDLE: 0x80070006,
  NOT_READY: 0x80070015,
  DEVICE_NOT_CONNECTED: 0x8007048f,
  E_NOTIMPL: 0x80004001,
} as const;

export const failed = (hr: number) => (hr | 0) < 0;
/** The v2 "still running" result, or the v1 asynchronous-completion code (not errors: wait). */
export const isPending = (hr: number) => (hr >>> 0) === HR.OPERATION_PENDING || (hr >>> 0) === HR.V1_OPERATION_PENDING;
/** The thing is gone: treat as done when cleaning up. */
export const isNotExist = (hr: number) => [HR.SYSTEM_NOT_FOUND, HR.ELEMENT_NOT_FOUND].includes(normalizeHResult(hr) as never);
/** Already stopped or exited: success for stop, kill and shutdown. */
export const isAlreadyStopped = (hr: number) =>
  [HR.SYSTEM_ALREADY_STOPPED, HR.PROCESS_ALREADY_STOPPED, HR.ELEMENT_NOT_FOUND, HR.SYSTEM_NOT_FOUND].includes(normalizeHResult(hr) as never);
/** Transient layer-device errors hcsshim retries PrepareLayer on (RS5 under load). */
export const isRetryableLayerError = (hr: number) => [HR.NOT_READY, HR.DEVICE_NOT_CONNECTED].includes(normalizeHResult(hr) as never);

/** An HCS call failed: what was being done, the code, and HCS's own event messages. */
export class HcsError extends SiloError {
  constructor(
    readonly op: string,
    readonly hr: number,
    /** ErrorMessage and ErrorEvents[].Message from the result document. */
    readonly events: string[],
    kind: ErrorKind,
    message: string,
    hint?: string,
  ) {
    super(kind, message, hint);
    this.name = 'HcsError';
  }
}

/**
 * The error for a failed call. `op` says what Silo was doing ("start container 4f2a..."); the result
 * document, when HCS gave one, supplies the details and may carry a more precise code.
 */
export function hcsError(op: string, hr: number, resultDocument?: string | null): HcsError {
  const doc = parseResultError(resultDocument);
  const code = normalizeHResult(failed(hr) ? hr : (doc?.Error ?? hr));
  const events = resultErrorMessages(doc);
  const known = HResultTable[code];
  if (known) return new HcsError(op, code, events, known.kind, `Could not ${op}: ${known.message} (${known.name}, ${formatHResult(code)})`, known.hint);
  const detail = events[0] ?? (code >>> 16 === 0x8007 ? `Windows error ${code & 0xffff}` : 'HCS reported an error');
  return new HcsError(op, code, events, 'Internal', `Could not ${op}: ${detail.replace(/\.$/, '')} (${formatHResult(code)})`);
}
