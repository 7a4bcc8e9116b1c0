// The schema v1 ContainerConfig for a Hyper-V isolated (Xenon) container: HCS itself builds the
// utility VM from the image's UtilityVM folder (`HvPartition: true`). This is Docker's route
// (moby libcontainerd/local/local_windows.go; hcsshim internal/schema1) and hcsshim HEAD still submits
// v1 documents through computecore. Note the v1 spellings: `ID`, `DNSSearchList`, `MemoryMaximumInMB`.
import type { ContainerSpec } from '../../../runtime/runtime';
import { invalidArgument } from '../../../errors';
import { mappedStorage, requireWindows } from './computeSystem';
import { DEFAULT_HYPERV_MEMORY_MB, memoryInMB, rejectUnsupported, utilityVmProcessors } from './resources';

export interface LayerV1 {
  ID: string;
  Path: string;
}

export interface ContainerConfigV1 {
  SystemType: 'Container';
  Name: string;
  Owner: string;
  IgnoreFlushesDuringBoot?: boolean;
  /** The container's scratch folder, holding sandbox.vhdx; attached inside the utility VM. */
  LayerFolderPath: string;
  Layers: LayerV1[];
  HostName?: string;
  MappedDirectories: Array<{ HostPath: string; ContainerPath: string; ReadOnly: boolean }>;
  MappedPipes?: Array<{ HostPath: string; ContainerPipeName: string }>;
  HvPartition: true;
  EndpointList?: string[];
  DNSSearchList?: string;
  MemoryMaximumInMB: number;
  ProcessorCount?: number;
  ProcessorMaximum?: number;
  HvRuntime: { ImagePath: string };
  TerminateOnLastHandleClosed: boolean;
}

export interface HypervContainerHost {
  owner: string;
  /** The container's scratch layer folder. */
  scratchPath: string;
  /** Read-only layers, immediate parent first, base last; ID = NameToGuid(folder name). */
  layers: LayerV1[];
  /** `<topmost layer folder that has UtilityVM>\UtilityVM`, see utilityVmImagePath. */
  utilityVmPath: string;
  /** HNS endpoint GUIDs (ports); HCS attaches them itself in v1. */
  endpoints?: string[];
  dnsSearch?: string[];
  hostCpuCount: number;
  /** First start of this container: skip flushes while it boots (Docker sets this). */
  firstStart?: boolean;
  /** False when the container must survive its holder (the HCS supervisor re-adopts it after a crash); default true. */
  terminateOnLastHandleClosed?: boolean;
}

/**
 * The utility VM image of a layer chain: the topmost layer with a UtilityVM folder (Docker walks the
 * layer list the same way; hcsshim uvmfolder.LocateUVMFolder).
 */
export function utilityVmImagePath(layerPaths: string[], hasUtilityVm: (layerPath: string) => boolean): string {
  for (const p of layerPaths) {
    if (hasUtilityVm(p)) return `${p.replace(/\\+$/, '')}\\UtilityVM`;
  }
  throw invalidArgument(
    'None of the image layers has a UtilityVM folder, so it cannot run with Hyper-V isolation',
    'use a Windows base image from Microsoft (servercore or nanoserver) or --isolation process',
  );
}

export function hypervContainerDocument(spec: ContainerSpec, host: HypervContainerHost): ContainerConfigV1 {
  requireWindows(spec, 'hyperv');
  rejectUnsupported(spec.resources);
  const { dirs, pipes } = mappedStorage(spec);
  const doc: ContainerConfigV1 = {
    SystemType: 'Container',
    Name: spec.id,
    Owner: host.owner,
    LayerFolderPath: host.scratchPath,
    Layers: host.layers.map((l) => ({ ID: l.ID, Path: l.Path })),
    MappedDirectories: dirs.map((d) => ({ HostPath: d.HostPath, ContainerPath: d.ContainerPath, ReadOnly: d.ReadOnly === true })),
    HvPartition: true,
    MemoryMaximumInMB: memoryInMB(spec.resources) ?? DEFAULT_HYPERV_MEMORY_MB,
    HvRuntime: { ImagePath: host.utilityVmPath },
    TerminateOnLastHandleClosed: host.terminateOnLastHandleClosed ?? true,
  };
  if (host.firstStart) doc.IgnoreFlushesDuringBoot = true;
  if (spec.hostname) doc.HostName = spec.hostname;
  if (pipes.length) doc.MappedPipes = pipes.map((p) => ({ HostPath: p.HostPath, ContainerPipeName: p.ContainerPipeName }));
  if (host.endpoints?.length) doc.EndpointList = [...host.endpoints];
  if (host.dnsSearch?.length) doc.DNSSearchList = host.dnsSearch.join(',');
  const cpu = utilityVmProcessors(spec.resources, host.hostCpuCount);
  if (cpu.count !== undefined) doc.ProcessorCount = cpu.count;
  if (cpu.maximum !== undefined) doc.ProcessorMaximum = cpu.maximum;
  return doc;
}
