// Schema v2 ComputeSystem for a process-isolated (Argon) Windows Server container. Field names are
// HCS's exactly (SchemaReference.md; hcsshim internal/hcs/schema2); unknown fields can be rejected by
// strict guests, so nothing is sent that schema 2.1 (build 17763) does not know.
import type { ContainerSpec } from '../../../runtime/runtime';
import { invalidArgument } from '../../../errors';
import { isNamedPipePath, pipeName, windowsContainerPath } from './containerPath';
import { memoryInMB, processorMaximum, rejectUnsupported } from './resources';

export interface SchemaVersion {
  Major: number;
  Minor: number;
}

export const SCHEMA_2_1: SchemaVersion = { Major: 2, Minor: 1 };

export interface Layer {
  /** NameToGuid of the layer folder's base name. */
  Id: string;
  Path: string;
}

export interface MappedDirectory {
  HostPath: string;
  ContainerPath: string;
  ReadOnly?: boolean;
}

export interface MappedPipe {
  ContainerPipeName: string;
  HostPath: string;
}

export interface RegistryValue {
  Key: { Hive: 'System' | 'Software' | 'Security' | 'Sam'; Name: string; Volatile?: boolean };
  Name: string;
  Type: 'None' | 'String' | 'ExpandedString' | 'MultiString' | 'Binary' | 'DWord' | 'QWord' | 'CustomType';
  StringValue?: string;
  DWordValue?: number;
}

export interface ContainerV2 {
  GuestOs?: { HostName: string };
  Storage: { Layers: Layer[]; Path: string };
  MappedDirectories?: MappedDirectory[];
  MappedPipes?: MappedPipe[];
  Memory?: { SizeInMB: number };
  Processor?: { Count?: number; Maximum?: number; Weight?: number };
  Networking?: { AllowUnqualifiedDnsQuery?: boolean; DnsSearchList?: string; Namespace?: string };
  RegistryChanges?: { AddValues?: RegistryValue[] };
}

export interface ComputeSystem {
  Owner: string;
  SchemaVersion: SchemaVersion;
  ShouldTerminateOnLastHandleClosed: boolean;
  Container: ContainerV2;
}

/** What only the host knows: mounted storage, layer GUIDs, network namespace. */
export interface ProcessContainerHost {
  /** Owner of every compute system this engine creates, so leftovers can be found after a crash. */
  owner: string;
  /** The mounted scratch volume from GetLayerMountPath: \\?\Volume{GUID}\ */
  volumePath: string;
  /** Read-only layers, immediate parent first, base last; Id = NameToGuid(folder name). */
  layers: Layer[];
  /** The HCN namespace holding the container's endpoints (ports). */
  networkNamespace?: string;
  dnsSearch?: string[];
  hostCpuCount: number;
  /** False when the compute system must survive its holder (the HCS supervisor re-adopts it after a crash); default true. */
  terminateOnLastHandleClosed?: boolean;
}

const VOLUME_PATH = /^\\\\\?\\Volume\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}\\?$/;

/** HCS wants the volume path with its trailing backslash (hcsshim validates the same pattern). */
export function storagePath(volumePath: string): string {
  if (!VOLUME_PATH.test(volumePath)) {
    throw invalidArgument(`The scratch volume path ${JSON.stringify(volumePath)} is not a \\\\?\\Volume{GUID}\\ path`, 'remount the container layer');
  }
  return volumePath.endsWith('\\') ? volumePath : volumePath + '\\';
}

/**
 * hcsshim hcsoci/hcsdoc_wcow.go: servercore otherwise force-kills services 5 s into a graceful
 * CtrlShutdown; Silo applies its own stop timeout and then terminates.
 */
export const WAIT_TO_KILL_SERVICE_TIMEOUT: RegistryValue = {
  Key: { Hive: 'System', Name: 'ControlSet001\\Control' },
  Name: 'WaitToKillServiceTimeout',
  Type: 'String',
  StringValue: String(2 ** 31 - 1),
};

export function mappedStorage(spec: ContainerSpec): { dirs: MappedDirectory[]; pipes: MappedPipe[] } {
  const dirs: MappedDirectory[] = [];
  const pipes: MappedPipe[] = [];
  for (const m of spec.mounts) {
    if (isNamedPipePath(m.target) || isNamedPipePath(m.source)) {
      if (!isNamedPipePath(m.target) || !isNamedPipePath(m.source)) {
        throw invalidArgument(`The mount ${m.source} -> ${m.target} maps a named pipe to a path`, 'map \\\\.\\pipe\\name to \\\\.\\pipe\\name');
      }
      pipes.push({ ContainerPipeName: pipeName(m.target), HostPath: m.source });
      continue;
    }
    const dir: MappedDirectory = { HostPath: m.source, ContainerPath: windowsContainerPath(m.target, 'mount target') };
    if (m.readonly) dir.ReadOnly = true;
    dirs.push(dir);
  }
  return { dirs, pipes };
}

export function requireWindows(spec: ContainerSpec, isolation: 'process' | 'hyperv'): void {
  if (spec.os !== 'windows') throw invalidArgument(`Container ${spec.id} is a ${spec.os} container, not a Windows one`);
  if (spec.isolation !== isolation) {
    throw invalidArgument(`Container ${spec.id} asks for ${spec.isolation} isolation, this document is for ${isolation} isolation`);
  }
}

export function processContainerDocument(spec: ContainerSpec, host: ProcessContainerHost): ComputeSystem {
  requireWindows(spec, 'process');
  rejectUnsupported(spec.resources);
  const container: ContainerV2 = {
    Storage: { Layers: host.layers.map((l) => ({ Id: l.Id, Path: l.Path })), Path: storagePath(host.volumePath) },
    RegistryChanges: { AddValues: [WAIT_TO_KILL_SERVICE_TIMEOUT] },
  };
  if (spec.hostname) container.GuestOs = { HostName: spec.hostname };
  const { dirs, pipes } = mappedStorage(spec);
  if (dirs.length) container.MappedDirectories = dirs;
  if (pipes.length) container.MappedPipes = pipes;
  const mb = memoryInMB(spec.resources);
  if (mb !== undefined) container.Memory = { SizeInMB: mb };
  const max = processorMaximum(spec.resources, host.hostCpuCount);
  if (max !== undefined) container.Processor = { Maximum: max };
  if (host.networkNamespace || host.dnsSearch?.length) {
    container.Networking = {};
    if (host.networkNamespace) container.Networking.Namespace = host.networkNamespace;
    if (host.dnsSearch?.length) container.Networking.DnsSearchList = host.dnsSearch.join(',');
  }
  return { Owner: host.owner, SchemaVersion: SCHEMA_2_1, ShouldTerminateOnLastHandleClosed: host.terminateOnLastHandleClosed ?? true, Container: container };
}
