// Container use cases: create, start, stop, kill, rm, wait, logs, exec, diff, inspect, list.
// What the RPC server, the CLI (through it) and the Docker API all call; it never sees the platform:
// a Snapshotter makes the root filesystem and a Runtime runs the process.
import { randomBytes } from 'node:crypto';
import { promises as fs, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { alreadyExists, failedPrecondition, invalidArgument, isKind, notFound, notImplemented, SiloError } from '../errors';
import type { ContentStore } from '../store/content';
import { isStaleTemp, tempPathFor, TEMP_PREFIX } from '../store/atomic';
import type { ImageStore, ImageRecord } from '../image/store';
import type { ImageConfig } from '../image/types';
import type { Change } from '../layers/changes';
import type { Snapshotter } from '../layers/snapshotter';
import { exitedState, generateName, initialState, newContainerId, VALID_NAME, type ContainerRecord } from '../runtime/container';
import { readLog, type LogLine, type LogReadOptions } from '../runtime/logs';
import { containerFiles, execFiles, MonitorConnection, readExit, removeRunDir, sweepRunDirs } from '../runtime/monitor';
import { mergeEnv, signalNumber } from '../runtime/options';
import type { BindMount, ContainerSpec, ExitStatus, Isolation, PortMapping, ProcessAccounting, ProcessStats, Runtime } from '../runtime/runtime';
import type { EventBus } from './events';
import type { ContainerCreateParams } from '../protocol';

/** What a container is created from: the engine protocol's parameters, Docker's options in Silo's words. */
export type CreateOptions = ContainerCreateParams;

export interface ExecOptions {
  cmd: string[];
  tty?: boolean;
  stdin?: boolean;
  env?: string[];
  user?: string;
  workingDir?: string;
  consoleSize?: { rows: number; cols: number };
}

/** A running exec: follow its output, send it input, await its exit. */
export interface ExecSession {
  execId: string;
  output(signal?: AbortSignal): AsyncGenerator<LogLine>;
  control: MonitorConnection | undefined;
  exited: Promise<ExitStatus>;
}

export interface ContainerServiceDeps {
  root: string;
  content: ContentStore;
  images: ImageStore;
  snapshotter: Snapshotter;
  runtime: Runtime;
  events: EventBus;
  /** The platform this engine runs containers of ('linux' here; 'windows' on HCS). */
  os: 'linux' | 'windows';
  /** Throws when this host cannot run `os` images in `isolation` (Windows images on Linux, ...). */
  checkRunnable?: (os: string, isolation: Isolation) => void;
  /** Resource use of running containers; absent where the platform has none yet. */
  accounting?: ProcessAccounting;
  /** Throws unless a bind source is something this host can bind (default: an existing absolute path here). */
  checkBindSource?: (source: string) => void;
}

/** The default bind source rule: an absolute path that exists on this host. */
function existingHostPath(source: string): void {
  if (!path.isAbsolute(source)) throw invalidArgument(`bind source "${source}" must be an absolute path`);
  if (!existsSync(source)) throw invalidArgument(`bind source path does not exist: ${source}`, 'create it first, or check the spelling');
}

/** The key that serializes name allocation (create) in ContainerService.serialized. */
const NAMES = '.names';

/** A container record's next state, written beside it before it replaces the record (writeState). */
const NEXT = '.next';

function nowIso(): string {
  return new Date().toISOString().replace(/Z$/, '000000Z');
}

export class ContainerService {
  private readonly dir: string;
  /** Exit promises of containers whose monitor this engine watches, keyed by id. */
  private readonly watching = new Map<string, Promise<void>>();
  /** Log readers per container id or name: auto-removal waits until they have read to the end. */
  private readonly holds = new Map<string, number>();
  /** Called at each release of a hold (removeWhenRead waits on them). */
  private readonly released = new Set<() => void>();
  /** Image configs by digest, the few most recent. */
  private readonly configs = new Map<string, ImageConfig>();
  /** The tail of each key's queue of serialized work (see serialized). */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly deps: ContainerServiceDeps) {
    this.dir = path.join(deps.root, 'containers');
  }

  /**
   * Runs `fn` after every earlier call with the same key has settled. This process alone serves its
   * data root (rpc/listen.ts holds <root>/engine.lock), so ordering its own calls is all the locking
   * a record or the name table needs; a lock file would cost half a dozen file operations on the run path.
   */
  private serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(key) ?? Promise.resolve()).then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }

  private recordPath(id: string) {
    return containerFiles(path.join(this.dir, id)).record;
  }

  // Records are small files read on every request: synchronously, because a thread-pool round trip
  // per file costs more than the read, most of all on a busy machine.
  private async read(id: string): Promise<ContainerRecord | undefined> {
    const file = this.recordPath(id);
    for (const f of [file, file + NEXT]) {
      try {
        return JSON.parse(readFileSync(f, 'utf8')) as ContainerRecord;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
      }
    }
    return undefined;
  }

  /**
   * State changes are replaced atomically (a reader or a crash sees the old record or the new), but not
   * fsynced: each fsync costs milliseconds on the run path, and a power loss ends the processes the
   * records describe anyway (reconcile recomputes running/exited). A record a power loss left empty
   * reads as absent (read() answers undefined), never as a torn state.
   */
  private writeState(rec: ContainerRecord): void {
    const file = this.recordPath(rec.id);
    // Not renamed over the old record: ext4 takes a rename over an existing file for a replace without
    // fsync and starts writing the new file out at once (auto_da_alloc, Documentation/admin-guide/ext4.rst),
    // which on a busy disk waits behind everyone's I/O, milliseconds per state change. The old record is
    // unlinked first instead; a crash between the two leaves the new one under NEXT, where read() looks.
    const next = file + NEXT;
    writeFileSync(next, JSON.stringify(rec, null, 1));
    rmSync(file, { force: true });
    renameSync(next, file);
  }

  /** Every container record on disk; directories without a record (a create that died) are skipped. */
  async all(): Promise<ContainerRecord[]> {
    let ids: string[];
    try {
      ids = readdirSync(this.dir).filter((n) => !n.startsWith(TEMP_PREFIX)); // removed, being deleted
    } catch {
      ids = [];
    }
    const recs = await Promise.all(ids.map((id) => this.read(id)));
    return recs.filter((r): r is ContainerRecord => !!r).sort((a, b) => b.created.localeCompare(a.created));
  }

  /** By full id, unique id prefix, or name (with or without a leading slash), as Docker resolves them. */
  async resolve(idOrName: string): Promise<ContainerRecord> {
    const key = idOrName.replace(/^\//, '');
    // A full ID (what the protocol's callers mostly send) names one record: no need to read them all.
    const byId = /^[0-9a-f]{64}$/.test(key) ? await this.read(key) : undefined;
    if (byId) return this.refresh(byId);
    const all = await this.all();
    const exact = all.find((c) => c.id === key || c.name === key);
    if (exact) return this.refresh(exact);
    const byPrefix = /^[0-9a-f]+$/.test(key) ? all.filter((c) => c.id.startsWith(key)) : [];
    if (byPrefix.length === 1) return this.refresh(byPrefix[0]);
    if (byPrefix.length > 1) throw invalidArgument(`multiple containers match "${idOrName}"`, 'give more characters of the ID');
    throw notFound(`No such container: ${idOrName}`);
  }

  /** Brings a record up to date with its monitor's exit record (the engine may have been down). */
  private async refresh(rec: ContainerRecord): Promise<ContainerRecord> {
    if (rec.state.status !== 'running') return rec;
    const files = containerFiles(path.join(this.dir, rec.id));
    const exit = await readExit(files.exit);
    if (exit) return this.markExited(rec, exit);
    if (!processAlive(rec.state.monitorPid)) {
      // The monitor died without an exit record (killed with SIGKILL, or the host rebooted).
      return this.markExited(rec, { exitCode: 255, oomKilled: false, finishedAt: nowIso() }, 'the container monitor exited unexpectedly');
    }
    this.watch(rec);
    return rec;
  }

  private async markExited(rec: ContainerRecord, exit: ExitStatus, error = ''): Promise<ContainerRecord> {
    return this.serialized(rec.id, async () => {
      const cur = await this.read(rec.id);
      // Removed meanwhile (or already marked): never write a record back from a stale copy, which would
      // resurrect a removed container.
      if (!cur || cur.state.status !== 'running') return cur ?? rec;
      cur.state = { ...exitedState(cur.state, exit), error };
      this.writeState(cur);
      this.deps.events.emit('container', 'die', cur.id, { name: cur.name, image: cur.image, exitCode: String(exit.exitCode), oomKilled: String(exit.oomKilled) });
      if (cur.hostConfig.autoRemove) void this.removeWhenRead(cur);
      return cur;
    });
  }

  /** --rm: remove once every log reader that was following has reached the end (bounded wait). */
  private async removeWhenRead(rec: ContainerRecord): Promise<void> {
    const held = () => (this.holds.get(rec.id) ?? 0) + (this.holds.get(rec.name) ?? 0) > 0;
    // Woken by each release, so the removal follows the last reader at once (a client that reads to
    // the end and asks again finds the container gone).
    const deadline = Date.now() + 30_000;
    while (held() && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.released.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, deadline - Date.now());
        this.released.add(wake);
      });
    }
    await this.remove(rec.id, { force: true }).catch(() => undefined);
  }

  /** Registers a reader synchronously, before any await, so a start that follows cannot outrun it. */
  private hold(key: string): () => void {
    const k = key.replace(/^\//, '');
    this.holds.set(k, (this.holds.get(k) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.holds.get(k) ?? 1) - 1;
      if (n > 0) this.holds.set(k, n);
      else this.holds.delete(k);
      for (const wake of [...this.released]) wake();
    };
  }

  /** Watches a running container's monitor for its exit, once per engine process. */
  private watch(rec: ContainerRecord): Promise<void> {
    let w = this.watching.get(rec.id);
    if (w) return w;
    const files = containerFiles(path.join(this.dir, rec.id));
    w = (async () => {
      const conn = await MonitorConnection.connect(files.socket);
      const fromSocket = conn ? await conn.exited : undefined;
      conn?.close();
      const exit = fromSocket ?? (await readExit(files.exit)) ?? { exitCode: 255, oomKilled: false, finishedAt: nowIso() };
      await this.markExited(rec, exit);
    })()
      .catch((err: Error) => {
        // A watcher must never take the engine down; the next resolve() reconciles from the exit record.
        if (existsSync(path.join(this.dir, rec.id))) process.stderr.write(`silo engine: recording the exit of ${rec.id}: ${err.message}\n`);
      })
      .finally(() => this.watching.delete(rec.id));
    this.watching.set(rec.id, w);
    return w;
  }

  /** Idempotent: a snapshot already gone is fine. */
  private async removeSnapshot(id: string): Promise<void> {
    await this.deps.snapshotter.remove(id).catch((err) => {
      if (!isKind(err, 'NotFound')) throw err;
    });
  }

  /** Finishes removals a crash cut short: directories renamed out of sight (remove), their snapshots. */
  private async sweepRemoved(): Promise<void> {
    for (const name of readdirSafe(this.dir)) {
      if (!isStaleTemp(name)) continue;
      const id = /^\.tmp-\d+-[0-9a-f]{12}-([0-9a-f]{64})$/.exec(name)?.[1];
      try {
        if (id) await this.removeSnapshot(id);
      } catch {
        continue; // kept, to be tried again at the next start
      }
      await fs.rm(path.join(this.dir, name), { recursive: true, force: true }).catch(() => undefined);
    }
    await sweepRunDirs();
  }

  /** At engine start: finish cut-short removals, pick up every container that was running (their monitors kept going). */
  async reconcile(): Promise<void> {
    await this.sweepRemoved();
    for (const rec of await this.all()) {
      if (rec.state.status === 'running') await this.refresh(rec);
      else if (rec.state.status === 'removing') await this.remove(rec.id, { force: true }).catch(() => undefined);
    }
  }

  private async imageConfig(img: ImageRecord): Promise<ImageConfig> {
    // Content-addressed, so never stale: a build's RUN steps and repeated runs read one config each time.
    const cached = this.configs.get(img.config.digest);
    if (cached) return cached;
    const config = JSON.parse((await this.deps.content.read(img.config.digest, 4 * 1024 * 1024)).toString('utf8')) as ImageConfig;
    if (this.configs.size >= 32) this.configs.delete(this.configs.keys().next().value!);
    this.configs.set(img.config.digest, config);
    return config;
  }

  async create(opts: CreateOptions): Promise<ContainerRecord> {
    const img = await this.deps.images.resolve(opts.image).catch((err) => {
      if (err instanceof SiloError && err.kind === 'NotFound') {
        throw notFound(`Unable to find image '${opts.image}' locally`, 'pull it, import it with `silo import`, or load it with `silo load`');
      }
      throw err;
    });
    const config = await this.imageConfig(img);
    const isolation: Isolation = opts.isolation === 'hyperv' ? 'hyperv' : 'process';
    this.deps.checkRunnable?.(config.os, isolation);
    if (config.os !== this.deps.os) {
      throw failedPrecondition(`image ${opts.image} is for ${config.os}, this engine runs ${this.deps.os} containers`, `run ${config.os} images on a ${config.os} host`);
    }
    const c = config.config ?? {};
    const entrypoint = opts.entrypoint ?? c.Entrypoint ?? [];
    // Docker: a new --entrypoint drops the image's CMD; args after the image replace CMD.
    const cmd = opts.cmd && opts.cmd.length ? opts.cmd : opts.entrypoint ? [] : c.Cmd ?? [];
    const args = [...entrypoint, ...cmd];
    if (!args.length) throw invalidArgument('no command specified', 'give a command after the image name');
    for (const b of opts.binds ?? []) (this.deps.checkBindSource ?? existingHostPath)(b.source);
    const ports = opts.ports ?? [];
    const id = newContainerId();
    const hostname = opts.hostname || id.slice(0, 12);
    const env = mergeEnv(c.Env ?? [], opts.env ?? []);
    const user = opts.user ?? c.User ?? '';
    const workingDir = opts.workingDir || c.WorkingDir || '/';
    if (!workingDir.startsWith('/')) throw invalidArgument(`the working directory "${workingDir}" is invalid: it needs to be an absolute path`);

    return this.serialized(NAMES, async () => {
      const all = await this.all();
      let name = opts.name?.replace(/^\//, '');
      if (name !== undefined) {
        if (!VALID_NAME.test(name)) throw invalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
        const holder = all.find((x) => x.name === name);
        if (holder) {
          throw alreadyExists(
            `Conflict. The container name "/${name}" is already in use by container "${holder.id}"`,
            'remove (or rename) that container to be able to reuse that name',
          );
        }
      } else {
        name = generateName((n) => all.some((x) => x.name === n));
      }
      const dir = path.join(this.dir, id);
      const parentChainID = img.layers.length ? img.layers[img.layers.length - 1].chainID : undefined;
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const rootfs = await this.deps.snapshotter.prepare(id, parentChainID);
        const spec: ContainerSpec = {
          id,
          os: this.deps.os,
          isolation,
          rootfs,
          process: { args, env, cwd: workingDir, user, terminal: !!opts.tty, stdin: !!opts.openStdin },
          hostname,
          mounts: opts.binds ?? [],
          ports,
          resources: { memoryBytes: opts.memoryBytes, nanoCpus: opts.nanoCpus, pidsLimit: opts.pidsLimit },
          stopSignal: c.StopSignal ?? 'SIGTERM',
        };
        const rec: ContainerRecord = {
          id,
          name,
          created: nowIso(),
          image: opts.image,
          imageId: img.id,
          parentChainID,
          config: { cmd, entrypoint, env, workingDir, user, tty: !!opts.tty, openStdin: !!opts.openStdin, labels: { ...(c.Labels ?? {}), ...(opts.labels ?? {}) } },
          hostConfig: {
            binds: (opts.binds ?? []).map((b) => `${b.source}:${b.target}${b.readonly ? ':ro' : ''}`),
            autoRemove: !!opts.autoRemove,
            logMaxSize: opts.logMaxSize,
            logMaxFiles: opts.logMaxFiles,
          },
          spec,
          state: initialState(),
        };
        // The one durable write: a created container outlives a power loss, as Docker's config does
        // (moby ioutils.AtomicWriteFile). Its state changes after this need not (see writeState). One
        // that lives for a single run (--rm, a build's RUN step) has nothing to keep over a power loss
        // (dockerd removes an --rm container it finds at start), and skips the fsync.
        const text = JSON.stringify(rec, null, 1);
        if (opts.autoRemove || opts.labels?.['silo.build'] === 'step') writeFileSync(this.recordPath(rec.id), text);
        else writeRecordSynced(this.recordPath(rec.id), text);
        this.deps.events.emit('container', 'create', id, { name, image: opts.image });
        return rec;
      } catch (err) {
        // Nothing half-created: no snapshot, no directory.
        await this.deps.snapshotter.remove(id).catch(() => undefined);
        await fs.rm(dir, { recursive: true, force: true });
        throw err;
      }
    });
  }

  async start(idOrName: string, consoleSize?: { rows: number; cols: number }): Promise<ContainerRecord> {
    const rec = await this.resolve(idOrName);
    if (rec.state.status === 'running') return rec;
    const dir = path.join(this.dir, rec.id);
    try {
      const started = await this.deps.runtime.start(rec.spec, { dir, consoleSize, logMaxSize: rec.hostConfig.logMaxSize, logMaxFiles: rec.hostConfig.logMaxFiles });
      rec.state = { ...rec.state, status: 'running', pid: started.pid, monitorPid: started.monitorPid, startedAt: nowIso(), error: '', exitCode: 0 };
      this.writeState(rec);
    } catch (err) {
      rec.state = { ...rec.state, error: err instanceof Error ? err.message : String(err), exitCode: (err as { exitCode?: number }).exitCode ?? 128 };
      this.writeState(rec);
      if (rec.hostConfig.autoRemove) await this.remove(rec.id, { force: true }).catch(() => undefined);
      throw err;
    }
    this.deps.events.emit('container', 'start', rec.id, { name: rec.name, image: rec.image });
    void this.watch(rec);
    return rec;
  }

  /**
   * Resolves with the exit status once the container is not running (Docker's `wait`); with `removed`,
   * once it is gone as well (condition=removed: what `docker run --rm` waits for, so nothing is left).
   */
  async wait(idOrName: string, opts: { removed?: boolean } = {}): Promise<ExitStatus> {
    if (!opts.removed) return this.waitExit(idOrName);
    const { id } = await this.resolve(idOrName);
    const destroyed = this.nextEvent(id, 'destroy');
    try {
      const status = await this.waitExit(id);
      // Subscribed before looking: a removal between the two is seen by one or the other.
      if (await this.resolve(id).then(() => true, () => false)) await destroyed.promise;
      return status;
    } finally {
      destroyed.dispose();
    }
  }

  private async waitExit(idOrName: string): Promise<ExitStatus> {
    const nextDie = this.nextDie(idOrName);
    let rec = await this.resolve(idOrName);
    if (rec.state.status === 'created') {
      // Docker's default condition "not-running" for a created container: wait for its next exit.
      return nextDie.promise;
    }
    nextDie.dispose();
    nextDie.promise.catch(() => undefined);
    if (rec.state.status === 'running') {
      await this.watch(rec);
      rec = (await this.read(rec.id)) ?? rec;
    }
    return { exitCode: rec.state.exitCode, oomKilled: rec.state.oomKilled, finishedAt: rec.state.finishedAt };
  }

  /** The next event `action` of a container, by full id (what the Docker API's waits watch for). */
  nextEvent(id: string, action: 'die' | 'destroy'): { promise: Promise<Record<string, string>>; dispose(): void } {
    let dispose = () => {};
    const promise = new Promise<Record<string, string>>((resolve) => {
      const sub = this.deps.events.onEvent((e) => {
        if (e.type === 'container' && e.id === id && e.action === action) {
          sub.dispose();
          resolve(e.attributes);
        }
      });
      dispose = () => sub.dispose();
    });
    return { promise, dispose };
  }

  /** The next `die` event of a container, by id or name (the record may be gone by then with --rm). */
  private nextDie(idOrName: string): { promise: Promise<ExitStatus>; dispose(): void } {
    const key = idOrName.replace(/^\//, '');
    let dispose = () => {};
    const promise = new Promise<ExitStatus>((resolve, reject) => {
      const sub = this.deps.events.onEvent((e) => {
        if (e.type !== 'container' || (e.action !== 'die' && e.action !== 'destroy')) return;
        if (e.id !== key && !e.id.startsWith(key) && e.attributes.name !== key) return;
        sub.dispose();
        if (e.action === 'die') resolve({ exitCode: Number(e.attributes.exitCode), oomKilled: e.attributes.oomKilled === 'true', finishedAt: nowIso() });
        // Removed without having run (a failed start with --rm): nothing to wait for any more.
        else reject(notFound(`No such container: ${idOrName}`));
      });
      dispose = () => sub.dispose();
    });
    return { promise, dispose };
  }

  private async sendSignal(rec: ContainerRecord, signal: string | number): Promise<boolean> {
    const conn = await MonitorConnection.connect(containerFiles(path.join(this.dir, rec.id)).socket);
    if (!conn) return false;
    conn.signal(signalNumber(signal));
    conn.close();
    return true;
  }

  async kill(idOrName: string, signal: string | number = 'SIGKILL'): Promise<void> {
    const rec = await this.resolve(idOrName);
    signalNumber(signal); // validate before the state check, as Docker does
    if (rec.state.status !== 'running') throw failedPrecondition(`Container ${rec.id} is not running`);
    await this.sendSignal(rec, signal);
    this.deps.events.emit('container', 'kill', rec.id, { name: rec.name, signal: String(signal) });
    if (signalNumber(signal) === 9) await this.watch(rec);
  }

  /** The stop signal, then SIGKILL after `timeoutSec` (Docker's default 10 s). */
  async stop(idOrName: string, timeoutSec = 10): Promise<void> {
    const rec = await this.resolve(idOrName);
    if (rec.state.status !== 'running') return;
    const exited = this.watch(rec);
    await this.sendSignal(rec, rec.spec.stopSignal || 'SIGTERM');
    const timedOut = await Promise.race([exited.then(() => false), sleep(timeoutSec * 1000).then(() => true)]);
    if (timedOut) {
      await this.sendSignal(rec, 'SIGKILL');
      await exited;
    }
    this.deps.events.emit('container', 'stop', rec.id, { name: rec.name });
  }

  async restart(idOrName: string, timeoutSec = 10): Promise<ContainerRecord> {
    await this.stop(idOrName, timeoutSec);
    const rec = await this.resolve(idOrName);
    rec.state.restartCount += 1;
    this.writeState(rec);
    return this.start(rec.id);
  }

  async remove(idOrName: string, opts: { force?: boolean } = {}): Promise<string> {
    const rec = await this.resolve(idOrName);
    if (rec.state.status === 'running') {
      if (!opts.force) {
        throw failedPrecondition(
          `You cannot remove a running container ${rec.id}`,
          'stop the container before attempting removal or force remove',
        );
      }
      await this.sendSignal(rec, 'SIGKILL');
      await this.watch(rec);
    }
    const dir = path.join(this.dir, rec.id);
    const exit = await readExit(containerFiles(dir).exit);
    const cur = (await this.read(rec.id)) ?? rec;
    // The monitor holds the root filesystem's mount until it has released it; an exit record that says
    // so (silo-monitor.c writes it after unmounting) leaves nothing to wait for.
    if (!exit?.released) await untilGone(cur.state.monitorPid || rec.state.monitorPid, 3000);
    // The monitor deletes the runtime's state before it writes the exit record; only a monitor that
    // died without one leaves state behind.
    if (!exit && cur.state.startedAt !== initialState().startedAt) await this.deps.runtime.delete(rec.id);
    // The record goes first, with its directory, by one rename out of sight: the container is gone at
    // once and whole. The temp name keeps the ID, so a crash before the snapshot is gone too is
    // finished by the next engine's reconcile (sweepRemoved); the dozen files are deleted after the
    // answer. Where the rename fails (a file still open, on Windows), they go in place, last.
    const doomed = tempPathFor(dir);
    let moved = false;
    try {
      renameSync(dir, doomed);
      moved = true;
    } catch {
      /* removed in place below */
    }
    await this.removeSnapshot(rec.id);
    if (moved) void fs.rm(doomed, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 }).catch(() => undefined);
    else rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
    await removeRunDir(dir);
    this.deps.events.emit('container', 'destroy', rec.id, { name: rec.name, image: rec.image });
    return rec.id;
  }

  /**
   * The container's log. With follow, lines come until the container has exited; `awaitStart` (how
   * `run` subscribes before starting) follows a created container through its start, while a plain
   * follow of a never-started container ends at once, as docker's does.
   */
  async logs(idOrName: string, opts: Omit<LogReadOptions, 'done'> & { awaitStart?: boolean }): Promise<AsyncGenerator<LogLine>> {
    const release = this.hold(idOrName);
    let rec: ContainerRecord;
    try {
      rec = await this.resolve(idOrName);
    } catch (err) {
      release();
      throw err;
    }
    const files = containerFiles(path.join(this.dir, rec.id));
    // Done once the monitor has written the exit record, which it does after flushing the log.
    // A created container is followed until it has run and exited.
    const startedOnce = rec.state.status !== 'created';
    const done = async () => {
      const current = await this.read(rec.id);
      if (!current) return true; // removed: no more lines can come
      if (current.state.status === 'created') return !opts.awaitStart && !startedOnce;
      return (await readExit(files.exit)) !== undefined;
    };
    const lines = readLog(files.log, { ...opts, done });
    return (async function* () {
      try {
        yield* lines;
      } finally {
        release();
      }
    })();
  }

  async attach(idOrName: string): Promise<MonitorConnection> {
    const rec = await this.resolve(idOrName);
    if (rec.state.status !== 'running') throw failedPrecondition(`You cannot attach to a stopped container, start it first`);
    const conn = await MonitorConnection.connect(containerFiles(path.join(this.dir, rec.id)).socket);
    if (!conn) throw failedPrecondition(`container ${rec.name} is not running`);
    return conn;
  }

  async exec(idOrName: string, opts: ExecOptions): Promise<ExecSession> {
    const rec = await this.resolve(idOrName);
    if (rec.state.status !== 'running') throw failedPrecondition(`Container ${rec.id} is not running`);
    if (!opts.cmd.length) throw invalidArgument('no command specified for exec');
    // Short: it names the exec's socket, and socket paths are limited to 108 bytes.
    const execId = randomBytes(4).toString('hex');
    const dir = path.join(this.dir, rec.id);
    const proc = {
      args: opts.cmd,
      env: mergeEnv(rec.spec.process.env, opts.env ?? []),
      cwd: opts.workingDir || rec.spec.process.cwd,
      user: opts.user ?? rec.spec.process.user,
      terminal: !!opts.tty,
      stdin: !!opts.stdin,
    };
    await this.deps.runtime.exec(rec.spec, execId, proc, { dir, consoleSize: opts.consoleSize });
    const ef = execFiles(dir, execId);
    const control = await MonitorConnection.connect(ef.socket);
    this.deps.events.emit('container', 'exec_start', rec.id, { name: rec.name, execID: execId });
    const exited = (async () => {
      const fromSocket = control ? await control.exited : undefined;
      const exit = fromSocket ?? (await readExit(ef.exit)) ?? { exitCode: 255, oomKilled: false, finishedAt: nowIso() };
      this.deps.events.emit('container', 'exec_die', rec.id, { name: rec.name, execID: execId, exitCode: String(exit.exitCode) });
      return exit;
    })();
    const cleanup = async () => {
      for (const f of Object.values(ef)) await fs.rm(f, { force: true });
      await fs.rm(ef.exit + '.runtime', { force: true });
    };
    return {
      execId,
      control,
      exited,
      output: (signal?: AbortSignal) =>
        (async function* () {
          try {
            yield* readLog(ef.log, { follow: true, signal, done: async () => existsSync(ef.exit) });
          } finally {
            await exited;
            await cleanup();
          }
        })(),
    };
  }

  private async accountable(idOrName: string): Promise<{ rec: ContainerRecord; accounting: ProcessAccounting }> {
    const rec = await this.resolve(idOrName);
    if (rec.state.status !== 'running') throw failedPrecondition(`Container ${rec.id} is not running`);
    const accounting = this.deps.accounting;
    if (!accounting) throw notImplemented('container resource statistics are not available on this platform yet');
    return { rec, accounting };
  }

  /** `docker stats`: one sample of a running container's memory and CPU use. */
  async stats(idOrName: string): Promise<ProcessStats & { id: string; name: string }> {
    const { rec, accounting } = await this.accountable(idOrName);
    return { ...(await accounting.stats(rec.state.pid)), id: rec.id, name: rec.name };
  }

  /** `docker top`: a running container's processes. */
  async top(idOrName: string, psArgs?: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    const { rec, accounting } = await this.accountable(idOrName);
    return accounting.top(rec.state.pid, psArgs);
  }

  async diff(idOrName: string): Promise<Change[]> {
    const rec = await this.resolve(idOrName);
    return this.deps.snapshotter.changes(rec.id);
  }

  /** Chain IDs that containers still stand on (for image removal and prune). */
  async parentChainIDs(): Promise<Set<string>> {
    return new Set((await this.all()).map((c) => c.parentChainID).filter((x): x is string => !!x));
  }

  async usesImage(imageId: string): Promise<boolean> {
    return (await this.all()).some((c) => c.imageId === imageId);
  }
}

function processAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function untilGone(pid: number, timeoutMs: number): Promise<void> {
  for (let waited = 0; pid && processAlive(pid) && waited < timeoutMs; waited += 10) await sleep(10);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * A new file, synced, then renamed into place: moby's AtomicWriteFile for a container's config (pkg/ioutils
 * fswriters.go atomicFileWriter.Close: Sync, then Rename). The directory is not synced, as there: on
 * the run path a second journal commit costs as much as the first.
 */
function writeRecordSynced(target: string, data: string): void {
  const tmp = tempPathFor(target);
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
