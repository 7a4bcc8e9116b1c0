// HcsRuntime: the Runtime interface on the Host Compute Service. A container is one compute system
// (schema v2 for process isolation, v1 with HvPartition for Hyper-V) plus its init process; each
// process gets a ProcessMonitor speaking runtime/monitor.ts's files and frames. When the init process
// exits the system is shut down (terminated after a grace period), every handle is closed off the
// main thread and the scratch unmounted.
//
// The process that holds the HCS handles is the monitor: the HCS supervisor (supervisor/) runs this
// class so containers outlive the engine; run in the engine itself (from source, in tests) containers
// end with it, since the documents set ShouldTerminateOnLastHandleClosed. monitorPid is that process.
// With `held` (the supervisor), every container is recorded while it runs and its compute system
// survives its last handle, so a holder restarted after a crash re-adopts it (adopt): open the system
// and the init process, watch them again, serve the control socket again and record the exit; a
// container that ended meanwhile gets its exit recorded (UNKNOWN_EXIT_CODE when HCS cannot tell).
import { notFound, notImplemented } from '../../errors';
import type { ContainerIO, ContainerSpec, ProcessSpec, Runtime, Started } from '../../runtime/runtime';
import { containerFiles, execFiles, makeRunDir, readExit } from '../../runtime/monitor';
import { writeExitRecord } from './containerLog';
import { UNKNOWN_EXIT_CODE, type HeldContainer, type HeldContainers } from './heldContainers';
import { HcsError, isNotExist } from './hresult';
import { processContainerDocument } from './documents/computeSystem';
import { hypervContainerDocument, utilityVmImagePath } from './documents/containerConfigV1';
import { processParameters } from './documents/processParameters';
import { ownedContainersQuery } from './documents/propertyQuery';
import type { HcsApi } from './hcs/api';
import { HcsComputeSystem } from './hcs/computeSystem';
import type { HcsProcess } from './hcs/process';
import { assertCanRunOnThisHost } from './host';
import type { WindowsLayerMounter } from './layerMount';
import type { ContainerNetwork, NetworkAttachment } from './hcn/natNetwork';
import { ProcessMonitor } from './processMonitor';
import { parseWindowsLayerMount, type WindowsLayerChain } from './windowsLayerMount';

export interface HcsRuntimeOptions {
  api: () => HcsApi;
  mounter: WindowsLayerMounter;
  /** Owner of the compute systems (find leftovers after a crash). */
  owner?: string;
  hostCpuCount: number;
  /** Whether a layer folder has a UtilityVM folder (Hyper-V isolation). */
  hasUtilityVm: (layerPath: string) => boolean;
  /** How long a shutdown may take before terminate. */
  shutdownGraceMs?: number;
  /** The host platform, for assertCanRunOnThisHost; the contract test on Linux passes 'win32'. */
  platform?: NodeJS.Platform;
  /** The engine's NAT network: every container gets an endpoint there, carrying its -p mappings. */
  network?: ContainerNetwork;
  /** Where running containers are recorded for re-adoption; when set, compute systems survive their last handle. */
  held?: HeldContainers;
}

/** What adopt found: the container still runs (and is held again), or it had ended and its exit is recorded. */
export type Adoption = { state: 'running'; pid: number } | { state: 'exited'; exitCode: number };

interface Running {
  system: HcsComputeSystem;
  chain: WindowsLayerChain;
  mounted: boolean;
  network?: NetworkAttachment;
  init: HcsProcess;
  monitor: ProcessMonitor;
  done: Promise<void>;
}

export class HcsRuntime implements Runtime {
  readonly name = 'hcs';
  private readonly running = new Map<string, Running>();

  constructor(private readonly opts: HcsRuntimeOptions) {}

  async start(spec: ContainerSpec, io: ContainerIO): Promise<Started> {
    assertCanRunOnThisHost(spec.os, spec.isolation, this.opts.platform);
    if (spec.ports.length > 0 && !this.opts.network) throw notImplemented('Publishing ports needs the container network, which this engine has not set up', 'leave out -p');
    const api = this.opts.api();
    const owner = this.opts.owner ?? 'silo';
    const chain = parseWindowsLayerMount(spec.rootfs);
    const ids = await Promise.all(chain.parentLayerPaths.map((p) => this.opts.mounter.layerId(p)));
    const held = this.opts.held;
    const survives = held ? { terminateOnLastHandleClosed: false } : {};
    let recorded = false;
    let mounted = false;
    let network: NetworkAttachment | undefined;
    let system: HcsComputeSystem | undefined;
    try {
      // Before the compute system: a v2 container names its namespace, a v1 one its endpoint (hcs.md §6).
      if (this.opts.network) network = await this.opts.network.attach(spec.ports);
      let document: object;
      if (spec.isolation === 'process') {
        const volumePath = await this.opts.mounter.mount(chain);
        mounted = true;
        document = processContainerDocument(spec, {
          owner,
          volumePath,
          layers: chain.parentLayerPaths.map((p, i) => ({ Id: ids[i], Path: p })),
          hostCpuCount: this.opts.hostCpuCount,
          ...(network ? { networkNamespace: network.namespaceId } : {}),
          ...survives,
        });
      } else {
        document = hypervContainerDocument(spec, {
          ...(network ? { endpoints: [network.endpointId] } : {}),
          owner,
          scratchPath: chain.scratchPath,
          layers: chain.parentLayerPaths.map((p, i) => ({ ID: ids[i], Path: p })),
          utilityVmPath: utilityVmImagePath(chain.parentLayerPaths, this.opts.hasUtilityVm),
          hostCpuCount: this.opts.hostCpuCount,
          firstStart: true,
          ...survives,
        });
      }
      // Recorded before it exists, so a crash from here on leaves nothing nobody knows of.
      const record: HeldContainer = { id: spec.id, isolation: spec.isolation, chain, mounted, ...(network ? { network } : {}), dir: io.dir };
      if (held) {
        await held.put(record);
        recorded = true;
      }
      system = await HcsComputeSystem.create(api, spec.id, document);
      await system.start();
      const init = await system.createProcess(processParameters(spec.process, consoleOf(spec.process, io)));
      const files = containerFiles(io.dir);
      await makeRunDir(io.dir);
      const monitor = new ProcessMonitor(init, { log: files.log, exit: files.exit, socket: files.socket }, spec.process.stdin);
      const entry: Running = { system, chain, mounted, network, init, monitor, done: Promise.resolve() };
      entry.done = monitor.done.then(() => this.teardown(spec.id, entry));
      this.running.set(spec.id, entry);
      await monitor.ready;
      await held?.put({ ...record, pid: init.pid });
      return { pid: init.pid, monitorPid: process.pid };
    } catch (err) {
      if (system) {
        await system.terminate().catch(() => undefined);
        await system.close().catch(() => undefined);
      }
      if (mounted) await this.opts.mounter.unmount(chain).catch(() => undefined);
      if (network) await this.opts.network?.detach(network).catch(() => undefined);
      if (recorded) await held?.delete(spec.id).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Takes over a container recorded by a holder that is gone (its crash): opens the compute system
   * and the init process and watches them again, serves the control socket again (no stdio: output
   * while nobody held the pipes is lost, as with a conmon crash) and records the exit as start does.
   * A container whose system or init process is gone gets its exit recorded now, with the code HCS
   * reports if it can still tell, else UNKNOWN_EXIT_CODE, and its scratch and endpoint released.
   */
  async adopt(c: HeldContainer): Promise<Adoption> {
    const api = this.opts.api();
    const files = containerFiles(c.dir);
    let system: HcsComputeSystem | undefined;
    try {
      system = await HcsComputeSystem.open(api, c.id);
    } catch (err) {
      if (!(err instanceof HcsError && isNotExist(err.hr))) throw err;
    }
    let init: HcsProcess | undefined;
    if (system && c.pid !== undefined) init = await system.openProcess(c.pid).catch(() => undefined);
    if (!system || !init) {
      // Gone while nobody held it (or it never ran): HCS has no exit code left to give.
      let exit = await readExit(files.exit);
      if (!exit) {
        exit = { exitCode: UNKNOWN_EXIT_CODE, oomKilled: false, finishedAt: new Date().toISOString() };
        await makeRunDir(c.dir);
        await writeExitRecord(files.exit, exit);
      }
      if (system) {
        await system.terminate().catch(() => undefined);
        await system.close();
      }
      await this.release(c);
      return { state: 'exited', exitCode: exit.exitCode };
    }
    await makeRunDir(c.dir);
    const monitor = new ProcessMonitor(init, { log: files.log, exit: files.exit, socket: files.socket }, false);
    const entry: Running = { system, chain: c.chain, mounted: c.mounted, network: c.network, init, monitor, done: Promise.resolve() };
    entry.done = monitor.done.then(() => this.teardown(c.id, entry));
    this.running.set(c.id, entry);
    await monitor.ready;
    return { state: 'running', pid: init.pid };
  }

  /**
   * Terminates the compute systems of this runtime's Owner that it does not hold and `claimed` does
   * not name (Docker ends its leftovers on restart, hcs.md §4d); returns their ids.
   */
  async endUnclaimed(claimed: Set<string>): Promise<string[]> {
    const api = this.opts.api();
    const ended: string[] = [];
    for (const p of await HcsComputeSystem.enumerate(api, ownedContainersQuery(this.opts.owner ?? 'silo'))) {
      if (!p.Id || claimed.has(p.Id) || this.running.has(p.Id)) continue;
      const system = await HcsComputeSystem.open(api, p.Id).catch(() => undefined);
      if (!system) continue;
      await system.terminate().catch(() => undefined);
      await system.close();
      ended.push(p.Id);
    }
    return ended;
  }

  /** The containers this runtime holds, with their init process ids. */
  list(): Array<{ id: string; pid: number }> {
    return [...this.running].map(([id, r]) => ({ id, pid: r.init.pid }));
  }

  async exec(spec: ContainerSpec, execId: string, proc: ProcessSpec, io: ContainerIO): Promise<Started> {
    const r = this.running.get(spec.id);
    if (!r) throw notFound(`Container ${spec.id.slice(0, 12)} is not running`, 'start it first');
    const p = await r.system.createProcess(processParameters(proc, consoleOf(proc, io)));
    await makeRunDir(io.dir);
    const monitor = new ProcessMonitor(p, execFiles(io.dir, execId), proc.stdin);
    void monitor.done.finally(() => p.close());
    await monitor.ready;
    return { pid: p.pid, monitorPid: process.pid };
  }

  /** Resolves when the container has exited, its record is written and its handles are closed. */
  async wait(id: string): Promise<void> {
    await this.running.get(id)?.done;
  }

  async delete(id: string): Promise<void> {
    const r = this.running.get(id);
    if (!r) return;
    await r.system.terminate().catch(() => undefined);
    await r.done.catch(() => undefined);
  }

  private async teardown(id: string, r: Running): Promise<void> {
    await r.init.close();
    await r.system.stop(this.opts.shutdownGraceMs ?? 10_000).catch(() => undefined);
    await r.system.close();
    await this.release({ id, chain: r.chain, mounted: r.mounted, ...(r.network ? { network: r.network } : {}) });
    this.running.delete(id);
  }

  /** The scratch mount, the network endpoint and the record of a container that has ended. */
  private async release(c: Pick<HeldContainer, 'id' | 'chain' | 'mounted' | 'network'>): Promise<void> {
    if (c.mounted) await this.opts.mounter.unmount(c.chain).catch(() => undefined);
    if (c.network) await this.opts.network?.detach(c.network).catch(() => undefined);
    await this.opts.held?.delete(c.id).catch(() => undefined);
  }
}

function consoleOf(proc: ProcessSpec, io: ContainerIO) {
  return io.consoleSize && proc.terminal ? { consoleSize: { height: io.consoleSize.rows, width: io.consoleSize.cols } } : {};
}
