// The engine protocol: JSON-RPC 2.0 (vscode-jsonrpc) over stdio or the owner-only socket
// <dataRoot>/engine.sock. One namespace per request or notification; the CLI, the editor client and
// tests import these and nothing else of the engine.
//
// Streams (logs, exec output, attach) are a request that stays open while the engine pushes
// notifications tagged with the caller's `stream` token; the request resolves when the stream ends,
// and cancelling the request ($/cancelRequest) stops it.
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { ErrorKind } from '../errors';

export type { ErrorKind };

/** JSON-RPC error codes of Silo's error kinds (server-defined range). `data` carries { kind, hint }. */
export const ErrorCodes: Record<ErrorKind, number> = {
  NotFound: -32004,
  AlreadyExists: -32009,
  InvalidArgument: -32602,
  FailedPrecondition: -32012,
  Unavailable: -32013,
  PermissionDenied: -32003,
  NotImplemented: -32001,
  Canceled: -32800,
  Internal: -32603,
};

export interface ErrorData {
  kind: ErrorKind;
  hint?: string;
  /** For start failures: the exit code Docker's CLI would return (125, 126, 127). */
  exitCode?: number;
}

// ---------- engine ----------
export interface EngineInfo {
  version: string;
  apiVersion: string;
  os: 'linux' | 'windows';
  osVersion: string;
  kernel: string;
  architecture: string;
  /** The OCI runtime or 'hcs'. */
  runtime: string;
  storageDriver: string;
  cgroupMode?: string;
  isolations: Array<'process' | 'hyperv'>;
  defaultIsolation: 'process' | 'hyperv';
  dataRoot: string;
  pid: number;
  containers: { total: number; running: number; stopped: number };
  images: number;
}

export namespace EngineInfoRequest {
  export const method = 'engine/info';
  export const type = new RequestType<object, EngineInfo, void>(method);
}

export interface ProgressParams {
  token: string;
  message: string;
  current?: number;
  total?: number;
}

export namespace ProgressNotification {
  export const method = 'engine/progress';
  export const type = new NotificationType<ProgressParams>(method);
}

// ---------- images ----------
/** One row of `silo images`. */
export interface ImageSummary {
  /** Familiar repository name, "<none>" for an untagged image. */
  repository: string;
  tag: string;
  /** Full image ID, "sha256:<hex>". */
  id: string;
  digest: string;
  created: string;
  /** Unpacked size in bytes. */
  size: number;
  os: string;
  architecture: string;
}

export namespace ImageImportRequest {
  export const method = 'images/import';
  /** `path` is a file the engine can read (the CLI spools stdin there); `ref` names the image. */
  export const type = new RequestType<{ path: string; ref?: string; message?: string; changes?: string[]; progress?: string }, { id: string }, void>(method);
}

export namespace ImageLoadRequest {
  export const method = 'images/load';
  export const type = new RequestType<{ path: string; progress?: string }, Array<{ id: string; names: string[] }>, void>(method);
}

export namespace ImageSaveRequest {
  export const method = 'images/save';
  export const type = new RequestType<{ refs: string[]; path: string }, object, void>(method);
}

export namespace ImageListRequest {
  export const method = 'images/list';
  export const type = new RequestType<{ all?: boolean; dangling?: boolean }, ImageSummary[], void>(method);
}

export namespace ImageInspectRequest {
  export const method = 'images/inspect';
  export const type = new RequestType<{ ref: string }, Record<string, unknown>, void>(method);
}

export namespace ImageTagRequest {
  export const method = 'images/tag';
  export const type = new RequestType<{ source: string; target: string }, object, void>(method);
}

export namespace ImageRemoveRequest {
  export const method = 'images/remove';
  export const type = new RequestType<{ ref: string; force?: boolean }, Array<{ Untagged: string } | { Deleted: string }>, void>(method);
}

/** One row of `docker history` (Engine API HistoryResponseItem), newest first. */
export interface HistoryRow {
  Id: string;
  /** Unix seconds. */
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export namespace ImageHistoryRequest {
  export const method = 'images/history';
  export const type = new RequestType<{ ref: string }, HistoryRow[], void>(method);
}

// ---------- one image's layers (the editor's Layers view) ----------
/** One entry of a layer's tar; a whiteout's `path` is the path it deletes (`opaque`: a directory's lower contents). */
export type { LayerEntry } from '../layers/listing';
import type { LayerEntry } from '../layers/listing';

/** The image's ID and, per `images/history` row (same order, newest first), the index of the layer it added or null (metadata only). */
export namespace ImageLayersRequest {
  export const method = 'images/layers';
  export const type = new RequestType<{ ref: string }, { id: string; layerOfRow: Array<number | null> }, void>(method);
}

/** Layer `index` (0: the base) of an image: its entries in tar order, at most `limit` (default 20,000), `more` counts the rest. */
export namespace ImageLayerFilesRequest {
  export const method = 'images/layerFiles';
  export const type = new RequestType<{ ref: string; index: number; limit?: number }, { entries: LayerEntry[]; more: number }, void>(method);
}

/** One file as layer `index` of an image holds it, read-only. */
export namespace ImageLayerReadFileRequest {
  export const method = 'images/layerReadFile';
  export const type = new RequestType<{ ref: string; index: number; path: string }, ContainerFile, void>(method);
}

// ---------- registry (pull, push, login, logout) ----------
/** Per-layer progress of a pull or push, tagged with the caller's `progress` token. */
export interface LayerProgressParams {
  token: string;
  /** The layer's short ID (12 hex digits of its blob digest). */
  id: string;
  /** pull: waiting, queued, downloading, verifying, downloaded, extracting, complete, exists; push: preparing, pushing, pushed, exists, mounted. */
  phase: string;
  current?: number;
  total?: number;
  /** push, on 'mounted': the repository (path) the blob was mounted from, as docker names it. */
  from?: string;
  /** pull, on 'complete' of a layer whose import was timed (Windows layers): where its time went. */
  timings?: LayerTimingsParams;
}

/**
 * Milliseconds per stage of one pulled layer; the stages overlap, so they need not add up to totalMs.
 * networkMs: waiting for the registry's bytes. decompressMs: reading the layer tar (gunzip, and the
 * download while it streams). writeMs: writing files. importMs: Windows ImportLayer with the
 * whiteouts and hard links after it. processMs: base-layer processing (ProcessBaseImage and
 * ProcessUtilityImage). totalMs: the whole unpack.
 */
export interface LayerTimingsParams {
  networkMs: number;
  decompressMs?: number;
  writeMs?: number;
  importMs?: number;
  processMs?: number;
  totalMs?: number;
}

export namespace LayerProgressNotification {
  export const method = 'images/layerProgress';
  export const type = new NotificationType<LayerProgressParams>(method);
}

export interface ImagePullResult {
  id: string;
  /** The digest the registry serves for the reference. */
  digest: string;
  /** The full normalised reference ("docker.io/library/busybox:latest"). */
  reference: string;
  status: 'downloaded' | 'up-to-date';
  /** os/arch[/variant][:os.version] of the image pulled. */
  platform: string;
}

export namespace ImagePullRequest {
  export const method = 'images/pull';
  /** `platform`: docker's --platform (windows/amd64:10.0.20348 too); `progress`: token for LayerProgressNotification. */
  export const type = new RequestType<{ ref: string; platform?: string; isolation?: 'process' | 'hyperv'; progress?: string }, ImagePullResult, void>(method);
}

export namespace ImagePushRequest {
  export const method = 'images/push';
  export const type = new RequestType<{ ref: string; progress?: string }, { digest: string; size: number; tag: string }, void>(method);
}

export namespace LoginRequest {
  export const method = 'registry/login';
  /** `server` defaults to docker.io. The password goes only to the registry and Silo's owner-only credential file. */
  export const type = new RequestType<{ server?: string; username: string; password: string }, { domain: string }, void>(method);
}

export namespace LogoutRequest {
  export const method = 'registry/logout';
  export const type = new RequestType<{ server?: string }, { domain: string; removed: boolean }, void>(method);
}

// ---------- containers ----------
export interface PortMapping {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

export interface BindMount {
  source: string;
  target: string;
  readonly: boolean;
}

export interface ContainerCreateParams {
  image: string;
  name?: string;
  cmd?: string[];
  entrypoint?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  hostname?: string;
  tty?: boolean;
  openStdin?: boolean;
  labels?: Record<string, string>;
  binds?: BindMount[];
  ports?: PortMapping[];
  memoryBytes?: number;
  nanoCpus?: number;
  pidsLimit?: number;
  isolation?: 'process' | 'hyperv' | 'default';
  autoRemove?: boolean;
  logMaxSize?: number;
  logMaxFiles?: number;
}

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  imageId: string;
  command: string;
  created: string;
  state: string;
  status: string;
  ports: PortMapping[];
  isolation: string;
  exitCode: number;
}

export namespace ContainerCreateRequest {
  export const method = 'containers/create';
  export const type = new RequestType<ContainerCreateParams, { id: string; name: string }, void>(method);
}

export interface ConsoleSize {
  rows: number;
  cols: number;
}

export namespace ContainerStartRequest {
  export const method = 'containers/start';
  export const type = new RequestType<{ id: string; consoleSize?: ConsoleSize }, { id: string }, void>(method);
}

export interface ContainerListParams {
  all?: boolean;
  /** docker's `ps` filters, name -> values: id, name, status, label, ancestor, exited, before, since. */
  filters?: Record<string, string[]>;
}

export namespace ContainerListRequest {
  export const method = 'containers/list';
  export const type = new RequestType<ContainerListParams, ContainerSummary[], void>(method);
}

export namespace ContainerInspectRequest {
  export const method = 'containers/inspect';
  export const type = new RequestType<{ id: string }, Record<string, unknown>, void>(method);
}

export namespace ContainerStopRequest {
  export const method = 'containers/stop';
  export const type = new RequestType<{ id: string; timeout?: number }, object, void>(method);
}

export namespace ContainerRestartRequest {
  export const method = 'containers/restart';
  export const type = new RequestType<{ id: string; timeout?: number }, object, void>(method);
}

export namespace ContainerKillRequest {
  export const method = 'containers/kill';
  export const type = new RequestType<{ id: string; signal?: string }, object, void>(method);
}

export namespace ContainerRemoveRequest {
  export const method = 'containers/remove';
  export const type = new RequestType<{ id: string; force?: boolean }, { id: string }, void>(method);
}

export interface ExitInfo {
  exitCode: number;
  signal?: string;
  oomKilled: boolean;
  finishedAt: string;
}

export interface ContainerWaitParams {
  id: string;
  /** Also wait until the container is removed (docker's condition=removed; `run --rm` uses it). */
  removed?: boolean;
}

export namespace ContainerWaitRequest {
  export const method = 'containers/wait';
  export const type = new RequestType<ContainerWaitParams, ExitInfo, void>(method);
}

export interface Change {
  kind: 'A' | 'C' | 'D';
  path: string;
}

export namespace ContainerDiffRequest {
  export const method = 'containers/diff';
  export const type = new RequestType<{ id: string }, Change[], void>(method);
}

/** One file of a container, read-only: `view` 'container' is its merged tree, 'image' the same path in its image. */
export interface ContainerFile {
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  /** Milliseconds since the epoch. */
  mtime: number;
  /** base64, for a regular file. */
  data?: string;
  /** The link text, for a symlink (not followed). */
  target?: string;
}

export namespace ContainerReadFileRequest {
  export const method = 'containers/readFile';
  export const type = new RequestType<{ id: string; path: string; view: 'container' | 'image' }, ContainerFile, void>(method);
}

export namespace ContainerCommitRequest {
  export const method = 'containers/commit';
  export const type = new RequestType<{ id: string; ref?: string; message?: string; author?: string; changes?: string[] }, { id: string }, void>(method);
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  log: string;
  time: string;
  /** Resume point: pass as `cursor` to continue after this line (e.g. after an engine restart). */
  cursor: string;
}

export namespace ContainerLogsRequest {
  export const method = 'containers/logs';
  export const type = new RequestType<
    {
      id: string;
      stream: string;
      follow?: boolean;
      since?: string;
      until?: string;
      tail?: number;
      cursor?: string;
      /** Follow a created container through its start (how `run` subscribes before starting it). */
      awaitStart?: boolean;
    },
    { cursor?: string },
    void
  >(method);
}

/** Lines of a logs or exec stream, batched. */
export namespace StreamLinesNotification {
  export const method = 'stream/lines';
  export const type = new NotificationType<{ stream: string; lines: LogLine[] }>(method);
}

export interface StreamInput {
  stream: string;
  data?: string; // base64
  close?: boolean;
  resize?: ConsoleSize;
}

/** Keyboard input and terminal size for an attached container or exec, addressed by its stream token. */
export namespace StreamInputNotification {
  export const method = 'stream/input';
  export const type = new NotificationType<StreamInput>(method);
}

export namespace ContainerAttachRequest {
  export const method = 'containers/attach';
  /** Opens input to the container under `stream` (output comes through logs); resolves at its exit. */
  export const type = new RequestType<{ id: string; stream: string }, ExitInfo, void>(method);
}

export namespace ExecRequest {
  export const method = 'containers/exec';
  /** Runs a process in the container; output as stream/lines, input as stream/input; resolves at its exit. */
  export const type = new RequestType<
    { id: string; stream: string; cmd: string[]; tty?: boolean; stdin?: boolean; env?: string[]; user?: string; workingDir?: string; consoleSize?: ConsoleSize },
    ExitInfo,
    void
  >(method);
}

export interface ContainerStats {
  id: string;
  name: string;
  cpuPercent: number;
  memoryUsage: number;
  memoryLimit: number;
  pids: number;
}

export namespace ContainerStatsRequest {
  export const method = 'containers/stats';
  export const type = new RequestType<{ ids?: string[] }, ContainerStats[], void>(method);
}

// ---------- events and system ----------
export interface EngineEvent {
  type: 'container' | 'image';
  action: string;
  id: string;
  attributes: Record<string, string>;
  time: number;
  timeNano: number;
}

export namespace EventsSubscribeRequest {
  export const method = 'events/subscribe';
  /** Starts pushing events/event notifications to this connection; resolves when cancelled. */
  export const type = new RequestType<{ stream: string }, object, void>(method);
}

export namespace EventNotification {
  export const method = 'events/event';
  export const type = new NotificationType<{ stream: string; event: EngineEvent }>(method);
}

export namespace SystemPruneRequest {
  export const method = 'system/prune';
  export const type = new RequestType<{ all?: boolean }, { containersDeleted: string[]; imagesDeleted: string[]; spaceReclaimed: number }, void>(method);
}

// ---------- build ----------
export interface BuildParams {
  /** Token of this build's build/progress notifications. */
  stream: string;
  /** The build context directory (absolute, on the engine's machine). */
  context: string;
  /** The Dockerfile (absolute); default <context>/Dockerfile. */
  dockerfile?: string;
  tags?: string[];
  target?: string;
  buildArgs?: Record<string, string>;
  noCache?: boolean;
  pull?: boolean;
  labels?: Record<string, string>;
}

/** One step of a build as the CLI prints it ("Step 3/12 : RUN ...") and the editor marks it. */
export interface BuildStep {
  /** 1-based position among all steps of the stages built. */
  step: number;
  total: number;
  stage: number;
  /** 0-based Dockerfile line of the instruction (the FROM line for ONBUILD triggers). */
  line: number;
  /** The instruction as written (continuations joined). */
  instruction: string;
}

export type BuildEvent =
  | { kind: 'step'; step: BuildStep }
  /** Cache verdict of a step: cached, or the reason it missed (which file, which ARG, which parent). */
  | { kind: 'cache'; step: BuildStep; cached: boolean; reason?: string }
  | { kind: 'container'; step: BuildStep; id: string }
  | { kind: 'output'; step: BuildStep; stream: 'stdout' | 'stderr'; text: string }
  | { kind: 'removed'; step: BuildStep; id: string }
  /** The step's result image. */
  | { kind: 'image'; step: BuildStep; id: string }
  | { kind: 'warning'; text: string };

/** Per-step cache data for the editor (`silo/buildCacheHints` of the language server takes these steps). */
export interface BuildCacheStep {
  line: number;
  cached: boolean;
  reason?: string;
}

export interface BuildResult {
  id: string;
  tags: string[];
  dockerfile: string;
  steps: BuildCacheStep[];
}

export namespace BuildRequest {
  export const method = 'build/build';
  /** Builds an image; progress as build/progress notifications under `stream`; cancel stops the running step. */
  export const type = new RequestType<BuildParams, BuildResult, void>(method);
}

export namespace BuildProgressNotification {
  export const method = 'build/progress';
  export const type = new NotificationType<{ stream: string; event: BuildEvent }>(method);
}
