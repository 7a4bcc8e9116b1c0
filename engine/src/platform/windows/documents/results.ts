// Documents HCS returns: Properties (with Statistics and ProcessList), ProcessStatus, SystemExitStatus
// and ResultError (SchemaReference.md; hcsshim internal/hcs/schema2). Parsed defensively: they come
// from another process, and a field may be absent on an older build.

export interface Statistics {
  Timestamp?: string;
  ContainerStartTime?: string;
  Uptime100ns?: number;
  Processor?: { TotalRuntime100ns?: number; RuntimeUser100ns?: number; RuntimeKernel100ns?: number };
  Memory?: { MemoryUsageCommitBytes?: number; MemoryUsageCommitPeakBytes?: number; MemoryUsagePrivateWorkingSetBytes?: number };
  Storage?: { ReadCountNormalized?: number; ReadSizeBytes?: number; WriteCountNormalized?: number; WriteSizeBytes?: number };
}

export interface ProcessDetails {
  ProcessId: number;
  ImageName?: string;
  CreateTimestamp?: string;
  UserTime100ns?: number;
  KernelTime100ns?: number;
  MemoryCommitBytes?: number;
  MemoryWorkingSetPrivateBytes?: number;
  MemoryWorkingSetSharedBytes?: number;
}

export interface Properties {
  Id: string;
  SystemType: string;
  RuntimeOsType?: string;
  Owner?: string;
  State?: 'Created' | 'Running' | 'Paused' | 'Stopped' | 'SavedAsTemplate' | 'Unknown';
  Stopped?: boolean;
  ExitType?: string;
  Statistics?: Statistics;
  ProcessList?: ProcessDetails[];
}

export interface ProcessStatus {
  ProcessId?: number;
  Exited?: boolean;
  ExitCode?: number;
  LastWaitResult?: number;
}

export interface SystemExitStatus {
  Status?: number;
  ExitType?: 'None' | 'GracefulExit' | 'ForcedExit' | 'UnexpectedExit' | 'Unknown';
}

export interface ErrorEvent {
  Message?: string;
  StackTrace?: string;
  Provider?: string;
  EventId?: number;
  Source?: string;
}

export interface ResultError {
  Error?: number;
  ErrorMessage?: string;
  ErrorEvents?: ErrorEvent[];
}

function parseObject(doc: string | null | undefined): Record<string, unknown> | undefined {
  if (!doc) return undefined;
  try {
    const v: unknown = JSON.parse(doc);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function parseProperties(doc: string | null | undefined): Properties | undefined {
  const o = parseObject(doc);
  return o && typeof o.Id === 'string' ? (o as unknown as Properties) : undefined;
}

/** An array of Properties, from HcsEnumerateComputeSystems. */
export function parsePropertiesList(doc: string | null | undefined): Properties[] {
  if (!doc) return [];
  try {
    const v: unknown = JSON.parse(doc);
    return Array.isArray(v) ? (v.filter((p) => p && typeof p === 'object' && typeof p.Id === 'string') as Properties[]) : [];
  } catch {
    return [];
  }
}

export function parseProcessStatus(doc: string | null | undefined): ProcessStatus | undefined {
  return parseObject(doc) as ProcessStatus | undefined;
}

/**
 * The exit code of a ProcessStatus: valid only when the process exited and the wait succeeded
 * (SchemaReference ProcessStatus). Undefined otherwise; the caller decides (Docker reports -1 / 127).
 */
export function exitCodeOf(status: ProcessStatus | undefined): number | undefined {
  if (!status || status.Exited !== true || (status.LastWaitResult ?? 0) !== 0 || typeof status.ExitCode !== 'number') return undefined;
  return status.ExitCode >>> 0;
}

export function parseSystemExitStatus(doc: string | null | undefined): SystemExitStatus | undefined {
  return parseObject(doc) as SystemExitStatus | undefined;
}

export function parseResultError(doc: string | null | undefined): ResultError | undefined {
  const o = parseObject(doc);
  if (!o) return undefined;
  if (o.Error === undefined && o.ErrorMessage === undefined && o.ErrorEvents === undefined) return undefined;
  return o as ResultError;
}

/** ErrorMessage and each event's Message, for the user (hcsshim appends them to its error text). */
export function resultErrorMessages(err: ResultError | undefined): string[] {
  if (!err) return [];
  const out: string[] = [];
  if (err.ErrorMessage) out.push(err.ErrorMessage.trim());
  for (const e of err.ErrorEvents ?? []) if (e.Message && !out.includes(e.Message.trim())) out.push(e.Message.trim());
  return out.filter((m) => m !== '');
}
