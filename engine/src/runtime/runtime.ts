// The Runtime runs one container from a platform-neutral spec. Linux turns the spec into an OCI
// runtime config.json and drives crun (runc as fallback) under a monitor process; Windows turns it
// into an HCS ComputeSystem document. service/ never sees which.
//
// A container's life through the Runtime:
//   start(spec, io)      monitor launched; it creates and starts the init process; the log and the exit
//                        record are written under io.dir by the monitor, not by the engine, so the
//                        engine may exit or crash while the container runs
//   exec(id, proc, io)   an extra process in the running container
//   signal(id, sig)      SIGTERM / SIGKILL ...; stop = signal, wait with a timeout, then SIGKILL
//   delete(id)           forget the runtime's state for a stopped container
import type { Mount } from '../layers/snapshotter';

export type Isolation = 'process' | 'hyperv';

export interface ProcessSpec {
  args: string[];
  env: string[];
  cwd: string;
  /** "uid", "uid:gid", "name" or "name:group", resolved inside the container's rootfs (never the host's). */
  user: string;
  terminal: boolean;
  /** Keep stdin open for attach / -i. */
  stdin: boolean;
  /** Windows: args are already one command line (image config ArgsEscaped): joined with spaces, not quoted. */
  argsEscaped?: boolean;
}

export interface BindMount {
  source: string; // host path, absolute
  target: string; // container path, absolute
  readonly: boolean;
}

export interface PortMapping {
  hostIp: string; // '127.0.0.1', '0.0.0.0', '::1'
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

export interface Resources {
  memoryBytes?: number;
  nanoCpus?: number; // --cpus 1.5 => 1.5e9
  pidsLimit?: number;
}

export interface ContainerSpec {
  id: string;
  os: 'linux' | 'windows';
  isolation: Isolation;
  /** How to mount the root filesystem (from the Snapshotter). */
  rootfs: Mount[];
  process: ProcessSpec;
  hostname: string;
  mounts: BindMount[];
  ports: PortMapping[];
  resources: Resources;
  /** Image STOPSIGNAL or SIGTERM. */
  stopSignal: string;
}

/** Where a container's monitor keeps its files (runtime/monitor.ts names them). */
export interface ContainerIO {
  dir: string;
  consoleSize?: { rows: number; cols: number };
  /** Log rotation (docker's --log-opt max-size / max-file); the monitor's default is 20 MB x 5. */
  logMaxSize?: number;
  logMaxFiles?: number;
}

export interface ExitStatus {
  exitCode: number;
  /** The signal that ended the process, if any (exit code 128 + n by Docker's convention). */
  signal?: string;
  oomKilled: boolean;
  finishedAt: string; // RFC 3339 with nanoseconds
  /** The monitor had released the root filesystem and the runtime's state when it wrote this. */
  released?: boolean;
}

export interface Started {
  pid: number;
  monitorPid: number;
}

export interface Runtime {
  /** 'crun', 'runc' or 'hcs'. */
  readonly name: string;
  /**
   * Launches the monitor, which creates and starts the container; resolves when the init process runs.
   * Signals, stdin and resize then go to the monitor (runtime/monitor.ts), not through the Runtime.
   */
  start(spec: ContainerSpec, io: ContainerIO): Promise<Started>;
  /** Runs an extra process `execId` in the running container under its own monitor. */
  exec(spec: ContainerSpec, execId: string, proc: ProcessSpec, io: ContainerIO): Promise<Started>;
  /** Removes what the runtime keeps of a stopped container. Idempotent. */
  delete(id: string): Promise<void>;
}

/** A running container's resource use, from the host's accounting (cgroups on Linux). */
export interface ProcessStats {
  memoryUsage: number;
  memoryLimit: number;
  /** The memory controller's counters (cache, rss, ...), by name. */
  memoryStats: Record<string, number>;
  /** CPU time the container used, in nanoseconds. */
  cpuNs: number;
  /** CPU time the whole host used, in nanoseconds (Docker's system_cpu_usage). */
  systemCpuNs: number;
  onlineCpus: number;
  pids: number;
}

/** Host accounting of a container's processes, found by its init process id. */
export interface ProcessAccounting {
  stats(pid: number): Promise<ProcessStats>;
  /** `docker top`: the container's processes as `ps PSARGS` prints them. */
  top(pid: number, psArgs?: string): Promise<{ Titles: string[]; Processes: string[][] }>;
}
