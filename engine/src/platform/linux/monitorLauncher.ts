// Starts container monitors through `silo-monitor --launcher` (engine/monitor/silo-monitor.c): one
// small process, started with the engine and dying with it, that forks each monitor. A spawn from the
// engine itself forks a Node process of 60-90 MB (its page tables copied, the event loop blocked until
// the exec): about 2 ms a monitor here, 1.1-1.5 of them blocking; through the launcher the whole round
// trip of a monitor that exits at once takes 0.5 ms.
import { spawn, type ChildProcess } from 'node:child_process';
import { invalidArgument, SiloError } from '../../errors';

/** The launcher could not be started: no monitor was forked, so the caller may spawn one itself. */
export class LauncherUnavailable extends Error {}

/** What the launcher answers for one monitor: its pid (0 if it was never forked) and its start-up report line. */
export interface Launched {
  monitorPid: number;
  report: string;
}

export class MonitorLauncher {
  private child: ChildProcess | undefined;
  private ready = false;
  /** The launcher could not come up once: monitors are spawned directly from then on. */
  private broken = false;
  private nextId = 1;
  private readonly pending = new Map<string, { resolve: (l: Launched) => void; reject: (e: Error) => void }>();
  private input: Buffer = Buffer.alloc(0);

  constructor(private readonly monitorPath: string) {}

  /**
   * Forks a monitor with `args`, its stdout and stderr appended to `logPath`; resolves once its report
   * pipe has closed, and for a monitor that did not start, once it has exited. Rejects with
   * LauncherUnavailable when the launcher never came up (the caller may spawn the monitor itself), or
   * with an Unavailable SiloError when it died while starting this monitor.
   */
  launch(args: string[], logPath: string): Promise<Launched> {
    const fields = [String(this.nextId++), logPath, ...args];
    if (fields.some((f) => f.includes('\0'))) return Promise.reject(invalidArgument('a monitor argument contains a NUL byte'));
    if (this.broken) return Promise.reject(new LauncherUnavailable('the monitor launcher did not start before'));
    let child: ChildProcess;
    try {
      child = this.started();
    } catch (err) {
      return Promise.reject(err);
    }
    const payload = Buffer.from(fields.map((f) => f + '\0').join(''), 'utf8');
    const head = Buffer.alloc(4);
    head.writeUInt32BE(payload.length, 0);
    return new Promise((resolve, reject) => {
      this.pending.set(fields[0], { resolve, reject });
      this.holdRef();
      child.stdin!.write(Buffer.concat([head, payload]));
    });
  }

  private started(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn(this.monitorPath, ['--launcher'], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    this.ready = false;
    child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    const gone = (err?: Error) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (!this.ready) this.broken = true;
      const why = this.ready
        ? new SiloError('Unavailable', 'the container monitor launcher exited while starting a monitor', 'try again; see the engine log')
        : new LauncherUnavailable(`the monitor launcher did not start${err ? `: ${err.message}` : ''}`);
      for (const p of this.pending.values()) p.reject(why);
      this.pending.clear();
    };
    child.on('error', gone);
    child.on('exit', () => gone());
    child.stdin!.on('error', () => undefined); // a launcher that died: 'exit' answers the callers
    this.releaseRef();
    return child;
  }

  private onData(chunk: Buffer): void {
    this.input = this.input.length ? Buffer.concat([this.input, chunk]) : chunk;
    while (this.input.length >= 4) {
      const len = this.input.readUInt32BE(0);
      if (this.input.length < 4 + len) break;
      const [id, pid, ...rest] = this.input.subarray(4, 4 + len).toString('utf8').split('\t');
      this.input = this.input.subarray(4 + len);
      if (id === '0') this.ready = true;
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      p.resolve({ monitorPid: Number(pid) || 0, report: rest.join('\t') });
    }
    if (!this.pending.size) this.releaseRef();
  }

  // The launcher must not keep an idle engine alive: its pipes hold the event loop only while a
  // monitor is starting.
  private holdRef(): void {
    const c = this.child as (ChildProcess & { stdout: { ref?: () => void } }) | undefined;
    c?.ref();
    c?.stdout?.ref?.();
  }

  private releaseRef(): void {
    const c = this.child as (ChildProcess & { stdout: { unref?: () => void }; stdin: { unref?: () => void } }) | undefined;
    c?.unref();
    c?.stdout?.unref?.();
    c?.stdin?.unref?.();
  }
}
