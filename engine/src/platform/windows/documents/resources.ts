// Docker's CPU and memory limits in the units HCS takes (moby daemon/oci_windows.go):
// memory in whole MiB; --cpus as a processor count for a utility VM and as Maximum out of 10000 of
// the whole host for a process-isolated container. Pids limits do not exist on Windows.
import type { Resources } from '../../../runtime/runtime';
import { invalidArgument } from '../../../errors';

/** Hyper-V isolation memory when the user sets none (hcsshim uvm newDefaultOptions: 1024 MB). */
export const DEFAULT_HYPERV_MEMORY_MB = 1024;

const MIB = 1024 * 1024;
const NANO = 1e9;

export function memoryInMB(resources: Resources): number | undefined {
  if (resources.memoryBytes === undefined || resources.memoryBytes === 0) return undefined;
  const mb = Math.floor(resources.memoryBytes / MIB);
  if (mb < 1) throw invalidArgument(`The memory limit of ${resources.memoryBytes} bytes is below 1 MiB`, 'set --memory to at least 1m');
  return mb;
}

export function rejectUnsupported(resources: Resources): void {
  if (resources.pidsLimit !== undefined && resources.pidsLimit > 0) {
    throw invalidArgument('Windows containers do not support a process count limit', 'remove --pids-limit');
  }
}

/** Process isolation: the share of the whole host, out of 10000 (at least 1). */
export function processorMaximum(resources: Resources, hostCpuCount: number): number | undefined {
  if (!resources.nanoCpus) return undefined;
  if (resources.nanoCpus > hostCpuCount * NANO) {
    throw invalidArgument(`--cpus ${resources.nanoCpus / NANO} is more than this host's ${hostCpuCount} processors`, `use --cpus ${hostCpuCount} or less`);
  }
  return Math.max(1, Math.floor(resources.nanoCpus / hostCpuCount / (NANO / 10000)));
}

/** Hyper-V isolation: whole processors for the utility VM, capped by a Maximum when --cpus is fractional. */
export function utilityVmProcessors(resources: Resources, hostCpuCount: number): { count?: number; maximum?: number } {
  if (!resources.nanoCpus) return {};
  let count = Math.floor(resources.nanoCpus / NANO);
  const leftover = resources.nanoCpus % NANO;
  let maximum: number | undefined;
  if (leftover !== 0) {
    count++;
    maximum = Math.max(1, Math.floor(resources.nanoCpus / count / (NANO / 10000)));
  }
  if (count > hostCpuCount) {
    throw invalidArgument(`--cpus ${resources.nanoCpus / NANO} is more than this host's ${hostCpuCount} processors`, `use --cpus ${hostCpuCount} or less`);
  }
  return { count, maximum };
}
