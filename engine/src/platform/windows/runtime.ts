// HcsRuntime: the Runtime interface on the Host Compute Service. A container is one compute system
// (schema v2 for process isolation, v1 with HvPartition for Hyper-V) plus its init process; each
// process gets a ProcessMonitor speaking runtime/monitor.ts's files and frames. When the init process
// exits the system is shut down (terminated after a grace period), every handle is closed off the
// main thread and the scratch unmounted.
//
// The process that holds the HCS handles is the monitor: the HCS supervisor (supervisor/) runs this
// class so containers outlive the engine; run in the engine itself (from source, in tests) containers
// end with it, since the documents set ShouldTerminateOnLastHandleClosed. monitorPid is that process.
import { notFound, notImplemented } from '../../errors';
import type { ContainerIO, ContainerSpec, ProcessSpec, Runtime, Started } from '../../runtime/runtime';
import { containerFiles, execFiles, makeRunDir } from '../../runtime/monitor';
import { processContainerDocument } from './documents/computeSystem';
import { hypervContainerDocument, utilityVmImagePath } from './documents/containerConfigV1';
import { processParameters } from './documents/processParameters';
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
}

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
        });
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
      return { pid: init.pid, monitorPid: process.pid };
    } catch (err) {
      if (system) {
        await system.terminate().catch(() => undefined);
        await system.close().catch(() => undefined);
      }
      if (mounted) await this.opts.mounter.unmount(chain).catch(() => undefined);
      if (network) await this.opts.network?.detach(network).catch(() => undefined);
      throw err;
    }
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
    if (r.mounted) await this.opts.mounter.unmount(r.chain).catch(() => undefined);
    if (r.network) await this.opts.network?.detach(r.network).catch(() => undefined);
    this.running.delete(id);
  }
}

function consoleOf(proc: ProcessSpec, io: ContainerIO) {
  return io.consoleSize && proc.terminal ? { consoleSize: { height: io.consoleSize.rows, width: io.consoleSize.cols } } : {};
}
