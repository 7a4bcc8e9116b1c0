// The contract between the engine and a container's monitor process (engine/monitor/silo-monitor.c on
// Linux): where its files are, how to talk to its control socket, how to read its exit record.
// Platform-neutral: a Windows monitor keeps the same files and speaks the same frames.
import { promises as fs, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { removeStaleTemps, tempPathFor } from '../store/atomic';
import type { ExitStatus } from './runtime';

/**
 * Where control sockets live: a short runtime directory, not the data root, because a Unix socket
 * path holds at most 107 bytes and a data root may be long. /run is cleared at boot, exactly when the
 * monitors behind the sockets are gone too (Docker keeps its runtime sockets under /run the same way).
 */
export function runDir(containerDir: string): string {
  const base = process.env.SILO_RUN_DIR ?? (process.platform === 'win32' ? path.join(os.tmpdir(), 'silo') : '/run/silo');
  return path.join(base, 'containers', path.basename(containerDir));
}

/**
 * A container's files: state and logs under containers/<id>/ in the data root; its socket, and what is
 * made afresh at every start (the runtime's bundle), in runDir.
 */
export function containerFiles(dir: string) {
  return {
    dir,
    record: path.join(dir, 'container.json'),
    bundle: path.join(runDir(dir), 'bundle'),
    log: path.join(dir, 'container.log'),
    exit: path.join(dir, 'exit.json'),
    socket: path.join(runDir(dir), 'a.sock'),
    monitorLog: path.join(dir, 'monitor.log'),
  };
}

/** Files of the exec'd process `n` of a container (its output is not the container's log, as in Docker). */
export function execFiles(dir: string, n: string) {
  return {
    process: path.join(dir, `e${n}.json`),
    log: path.join(dir, `e${n}.log`),
    exit: path.join(dir, `e${n}.exit`),
    socket: path.join(runDir(dir), `e${n}.sock`),
  };
}

/** Creates a container's owner-only runtime directory (before its monitor binds a socket there). */
// Synchronous: one small directory each, on the start and remove paths, where a thread-pool round trip
// per call costs more than the call.
export async function makeRunDir(containerDir: string): Promise<void> {
  mkdirSync(runDir(containerDir), { recursive: true, mode: 0o700 });
}

/**
 * Removes a container's runtime directory: out of sight by one rename, its files (the bundle, the
 * /etc files) deleted after the caller goes on; sweepRunDirs deletes what a crash left half-deleted.
 */
export async function removeRunDir(containerDir: string): Promise<void> {
  const dir = runDir(containerDir);
  const doomed = tempPathFor(dir);
  try {
    renameSync(dir, doomed);
  } catch {
    rmSync(dir, { recursive: true, force: true }); // absent already, or a platform that will not rename it
    return;
  }
  void fs.rm(doomed, { recursive: true, force: true }).catch(() => undefined);
}

/** Deletes runtime directories whose removal a crashed engine cut short. */
export function sweepRunDirs(): Promise<void> {
  return removeStaleTemps(path.dirname(runDir('x')));
}

type RawExit = Omit<ExitStatus, 'signal'> & { signal: string | null };

function exitStatus(raw: RawExit): ExitStatus {
  return {
    exitCode: raw.exitCode,
    oomKilled: raw.oomKilled,
    finishedAt: raw.finishedAt,
    ...(raw.signal ? { signal: raw.signal } : {}),
    ...(raw.released ? { released: true } : {}),
  };
}

export async function readExit(file: string): Promise<ExitStatus | undefined> {
  try {
    return exitStatus(JSON.parse(readFileSync(file, 'utf8')) as RawExit);
  } catch {
    return undefined;
  }
}

/** Control-socket frame types (engine/monitor/silo-monitor.c speaks the same). */
export const enum Frame {
  Stdin = 1,
  CloseStdin = 2,
  Resize = 3,
  Signal = 4,
  Exit = 5,
}

/** The first line the monitor writes on its start-up pipe. */
export type MonitorReport = { pid: number } | { error: string; exitCode: number };

/** [type u8][length u32 BE][payload]. */
export function frame(type: Frame, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** A connection to a monitor's control socket: stdin, resize, signals in; the exit record out. */
export class MonitorConnection {
  private buffer = Buffer.alloc(0);
  readonly exited: Promise<ExitStatus | undefined>;

  private constructor(private readonly socket: net.Socket) {
    this.exited = new Promise((resolve) => {
      socket.on('data', (chunk) => {
        this.buffer = Buffer.concat([this.buffer, chunk]);
        while (this.buffer.length >= 5) {
          const len = this.buffer.readUInt32BE(1);
          if (this.buffer.length < 5 + len) break;
          if (this.buffer[0] === Frame.Exit) {
            resolve(exitStatus(JSON.parse(this.buffer.subarray(5, 5 + len).toString('utf8')) as RawExit));
          }
          this.buffer = this.buffer.subarray(5 + len);
        }
      });
      socket.on('close', () => resolve(undefined));
      socket.on('error', () => resolve(undefined));
    });
  }

  /** Connects; undefined when the monitor is gone (the process has exited). */
  static connect(socketPath: string): Promise<MonitorConnection | undefined> {
    return new Promise((resolve) => {
      const s = net.connect(socketPath);
      s.once('connect', () => resolve(new MonitorConnection(s)));
      s.once('error', () => resolve(undefined));
    });
  }

  writeStdin(data: Buffer): void {
    for (let off = 0; off < data.length; off += 65536) this.socket.write(frame(Frame.Stdin, data.subarray(off, off + 65536)));
  }

  closeStdin(): void {
    this.socket.write(frame(Frame.CloseStdin, Buffer.alloc(0)));
  }

  resize(rows: number, cols: number): void {
    const p = Buffer.alloc(4);
    p.writeUInt16BE(rows, 0);
    p.writeUInt16BE(cols, 2);
    this.socket.write(frame(Frame.Resize, p));
  }

  signal(signo: number): void {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(signo, 0);
    this.socket.write(frame(Frame.Signal, p));
  }

  close(): void {
    this.socket.destroy();
  }
}
