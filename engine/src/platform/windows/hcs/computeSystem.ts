// A compute system (container) handle (hcsshim internal/hcs/v2/system.go): create and wait, then
// register the event callback; or open one that exists (after a crash of whoever held it, hcsshim
// OpenComputeSystem); start; processes; properties; shutdown falling back to terminate; close off the
// main thread. Exit is signalled once, from SystemExited or a close.
import { GENERIC_ALL, HCS_EVENT_OPTION_NONE, HcsEventType } from '../bindings/computecore';
import { parseProperties, parsePropertiesList, parseSystemExitStatus, type Properties, type SystemExitStatus } from '../documents/results';
import type { PropertyQuery, SystemQuery } from '../documents/propertyQuery';
import { failed, hcsError, HcsError, isAlreadyStopped } from '../hresult';
import { callAsync, type HcsApi } from './api';
import { runOperation } from './operation';
import { HcsProcess } from './process';

export class HcsComputeSystem {
  readonly exited: Promise<SystemExitStatus | undefined>;
  private resolveExit!: (s: SystemExitStatus | undefined) => void;
  private exitSeen = false;
  private closed: Promise<void> | undefined;
  private readonly context: bigint;

  private constructor(
    private readonly api: HcsApi,
    readonly id: string,
    private readonly handle: unknown,
  ) {
    this.exited = new Promise((r) => (this.resolveExit = r));
    this.context = api.hub.listen((type, data) => {
      if (type === HcsEventType.SystemExited) this.finish(parseSystemExitStatus(data));
      else if (type === HcsEventType.ServiceDisconnect) this.finish(undefined);
    });
  }

  private get label(): string {
    return `container ${this.id.slice(0, 12)}`;
  }

  /** Creates the compute system from a v2 ComputeSystem or v1 ContainerConfig document. */
  static async create(api: HcsApi, id: string, document: object, opts: { timeoutMs?: number } = {}): Promise<HcsComputeSystem> {
    const out: unknown[] = [null];
    try {
      await runOperation(api, `create container ${id.slice(0, 12)}`, (op) => api.core.HcsCreateComputeSystem(id, JSON.stringify(document), op, null, out), opts);
    } catch (err) {
      if (out[0]) await callAsync(api.core.HcsCloseComputeSystem, out[0]);
      throw err;
    }
    return HcsComputeSystem.watch(api, id, out[0]);
  }

  /** Opens an existing compute system by id (HCS_E_SYSTEM_NOT_FOUND when it is gone) and watches its events. */
  static async open(api: HcsApi, id: string): Promise<HcsComputeSystem> {
    const out: unknown[] = [null];
    const hr = api.core.HcsOpenComputeSystem(id, GENERIC_ALL, out) as number;
    if (failed(hr)) throw hcsError(`open container ${id.slice(0, 12)}`, hr);
    return HcsComputeSystem.watch(api, id, out[0]);
  }

  /** The compute systems HCS lists for a query (an array of Properties). */
  static async enumerate(api: HcsApi, query: SystemQuery): Promise<Properties[]> {
    const r = await runOperation(api, 'list compute systems', (op) => api.core.HcsEnumerateComputeSystems(JSON.stringify(query), op));
    return parsePropertiesList(r.document);
  }

  private static async watch(api: HcsApi, id: string, handle: unknown): Promise<HcsComputeSystem> {
    const system = new HcsComputeSystem(api, id, handle);
    const hr = api.core.HcsSetComputeSystemCallback(handle, HCS_EVENT_OPTION_NONE, system.context, api.hub.event) as number;
    if (failed(hr)) {
      await system.close();
      throw hcsError(`watch container ${id.slice(0, 12)}`, hr);
    }
    return system;
  }

  async start(opts: { timeoutMs?: number } = {}): Promise<void> {
    await runOperation(this.api, `start ${this.label}`, (op) => this.api.core.HcsStartComputeSystem(this.handle, op, null), opts);
  }

  createProcess(parameters: object): Promise<HcsProcess> {
    return HcsProcess.create(this.api, this.handle, parameters, this.label);
  }

  /** A process that runs in this system, by id (no stdio: its pipes were its creator's). */
  openProcess(pid: number): Promise<HcsProcess> {
    return HcsProcess.open(this.api, this.handle, pid, this.label);
  }

  async properties(query?: PropertyQuery): Promise<Properties | undefined> {
    const r = await runOperation(this.api, `read the state of ${this.label}`, (op) => this.api.core.HcsGetComputeSystemProperties(this.handle, op, query ? JSON.stringify(query) : null));
    return parseProperties(r.document);
  }

  /** Graceful shutdown; an already stopped system is success. */
  async shutdown(opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.ignoreStopped(runOperation(this.api, `shut down ${this.label}`, (op) => this.api.core.HcsShutDownComputeSystem(this.handle, op, null), opts));
  }

  async terminate(opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.ignoreStopped(runOperation(this.api, `terminate ${this.label}`, (op) => this.api.core.HcsTerminateComputeSystem(this.handle, op, null), opts));
  }

  /** Shutdown bounded by `graceMs`, then terminate (Docker's shutdownContainer). */
  async stop(graceMs: number): Promise<void> {
    try {
      await this.shutdown({ timeoutMs: graceMs });
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, graceMs))]);
      if (this.exitSeen) return;
    } catch {
      // fall through to terminate
    }
    await this.terminate({ timeoutMs: graceMs });
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      await callAsync(this.api.core.HcsCloseComputeSystem, this.handle);
      this.api.hub.forget(this.context);
      this.finish(undefined);
    })();
    return this.closed;
  }

  private finish(status: SystemExitStatus | undefined): void {
    if (this.exitSeen) return;
    this.exitSeen = true;
    this.resolveExit(status);
  }

  private async ignoreStopped(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      if (err instanceof HcsError && isAlreadyStopped(err.hr)) return;
      throw err;
    }
  }
}
