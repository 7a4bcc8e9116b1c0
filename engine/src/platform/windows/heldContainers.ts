// What the holder of Windows containers' HCS handles (the HCS supervisor) records of each container
// while it runs, so that a holder restarted after a crash can re-adopt it (HcsRuntime.adopt): compute
// systems live in vmcompute.exe and outlive their holder when created with
// ShouldTerminateOnLastHandleClosed false. One JSON record per container in the data root.
import { RecordStore } from '../../store/records';
import type { Isolation } from '../../runtime/runtime';
import type { NetworkAttachment } from './hcn/natNetwork';
import type { WindowsLayerChain } from './windowsLayerMount';

export interface HeldContainer {
  /** The container id, which is also the compute system id. */
  id: string;
  isolation: Isolation;
  /** The init process id, once it runs (HcsOpenProcess needs it). */
  pid?: number;
  chain: WindowsLayerChain;
  /** The scratch is mounted through vmcompute (process isolation) and must be unmounted at the end. */
  mounted: boolean;
  network?: NetworkAttachment;
  /** ContainerIO.dir: the log, exit record and control socket (runtime/monitor.ts's names). */
  dir: string;
}

/**
 * The exit code recorded when a container ended while nobody held it and HCS cannot tell its code:
 * containerd reports 255 for a container whose shim was killed (hcsshim
 * cmd/containerd-shim-runhcs-v1/delete.go, the DeleteResponse containerd turns into the TaskExit).
 */
export const UNKNOWN_EXIT_CODE = 255;

export interface HeldContainers {
  put(c: HeldContainer): Promise<void>;
  delete(id: string): Promise<void>;
  list(): Promise<HeldContainer[]>;
}

export class HeldContainerStore implements HeldContainers {
  private readonly store: RecordStore<HeldContainer>;

  constructor(dir: string) {
    this.store = new RecordStore<HeldContainer>(dir);
  }

  put(c: HeldContainer): Promise<void> {
    return this.store.put(c.id, c);
  }

  async delete(id: string): Promise<void> {
    await this.store.delete(id);
  }

  async list(): Promise<HeldContainer[]> {
    return (await this.store.entries()).map(([, c]) => c);
  }
}
