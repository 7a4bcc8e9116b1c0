// The Windows composition (containerd's builtins_windows.go): the windowsfilter snapshotter over
// vmcompute with BackupWrite for base layers, and HcsRuntime over computecore with the engine's NAT
// network over computenetwork, run in the HCS supervisor process. Nothing is loaded until first use, so `silo info` and image commands
// work on a host without the Containers feature and say what is missing only when a container runs.
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Platform } from '../../service/engine';
import type { Isolation } from '../../runtime/runtime';
import { invalidArgument } from '../../errors';
import { isPipeAddress } from '../../rpc/paths';
import { assertCanRunOnThisHost, windowsHostInfo, type WindowsHostInfo } from './host';
import { SupervisedRuntime } from './supervisor/client';
import { hcsRuntimeFor } from './supervisor/server';
import { supervisorSocket } from './supervisor/protocol';
import { BackupFileWriter } from './windowsfilter/backupFileWriter';
import { VmcomputeLayers } from './windowsfilter/layerApi';
import type { LayerFileWriter } from './windowsfilter/layerFiles';
import { WindowsFilterSnapshotter } from './windowsfilter/snapshotter';

/** Library paths and host facts; defaults are the system DLLs and this host. */
export interface WindowsPlatformOptions {
  host?: () => WindowsHostInfo;
  libraries?: { computecore?: string; kernel32?: string; vmcompute?: string; computenetwork?: string; ole32?: string };
  /** The file writes of a base-layer import; BackupWrite by default. */
  files?: LayerFileWriter;
  /** The NAT network containers join ("silo-nat", 172.30.0.0/16 unless set: not Docker's "nat"). */
  network?: { name: string; subnet: string };
  /** The HCS supervisor's entry file; default silo-hcs-supervisor.js beside this bundle. */
  supervisorEntry?: string;
}

export function windowsPlatform(root: string, opts: WindowsPlatformOptions = {}): Platform {
  const host = opts.host ?? windowsHostInfo;
  const libs = opts.libraries ?? {};
  const vmcompute = libs.vmcompute ?? 'vmcompute.dll';
  const isolations = (): Isolation[] => (host().hyperv ? ['process', 'hyperv'] : ['process']);
  const snapshotter = new WindowsFilterSnapshotter({
    layersDir: path.join(root, 'layers'),
    snapshotsDir: path.join(root, 'snapshots'),
    tmpDir: path.join(root, 'tmp', 'windowsfilter'),
    layers: new VmcomputeLayers(vmcompute),
    files: opts.files ?? new BackupFileWriter(libs.kernel32),
  });
  // The supervisor holds the HCS handles outside the engine (README "Decision"); it ships as
  // silo-hcs-supervisor.js beside the engine bundle. Without it (running from source) the engine
  // holds them itself and its containers end with it.
  const supervisorEntry = opts.supervisorEntry ?? path.join(__dirname, 'silo-hcs-supervisor.js');
  const config = { libraries: libs, ...(opts.network ? { network: opts.network } : {}) };
  const runtime = existsSync(supervisorEntry)
    ? new SupervisedRuntime({
        config: { ...config, socket: supervisorSocket(root), stateDir: path.join(root, 'hcs-supervisor') },
        entry: supervisorEntry,
        logFile: path.join(root, 'hcs-supervisor.log'),
      })
    : hcsRuntimeFor(config);
  return {
    os: 'windows',
    snapshotter,
    runtime,
    get isolations() {
      return isolations();
    },
    facts: () => {
      const h = host();
      return { osVersion: h.version, kernel: h.version, storageDriver: snapshotter.name, runtime: runtime.name, isolations: isolations() };
    },
    checkBindSource: windowsBindSource,
    checkRunnable: (os, isolation) => {
      if (os !== 'windows' && os !== 'linux') throw invalidArgument(`The image is for ${os}, which Silo cannot run`);
      assertCanRunOnThisHost(os, isolation, 'win32');
      if (isolation === 'hyperv' && !host().hyperv) throw invalidArgument('Hyper-V isolation needs the Hyper-V feature, which this host lacks', 'enable Hyper-V, or use --isolation process');
    },
  };
}

/**
 * What a Windows container can bind from the host: a named pipe (`\\.\pipe\NAME`, mapped by HCS as
 * MappedPipes) or an existing directory given with its drive — HCS maps directories only (moby
 * volume/mounts/windows_parser.go refuses a file source the same way).
 */
export function windowsBindSource(source: string, stat: (p: string) => { isDirectory(): boolean } = statSync): void {
  if (isPipeAddress(source)) return;
  if (!/^[a-z]:[\\/]/i.test(source)) throw invalidArgument(`bind source "${source}" must be an absolute path with its drive, like C:\\data`);
  let st;
  try {
    st = stat(source);
  } catch {
    throw invalidArgument(`bind source path does not exist: ${source}`, 'create it first, or check the spelling');
  }
  if (!st.isDirectory()) throw invalidArgument(`bind source "${source}" is a file: Windows containers bind directories only`, 'bind the folder that holds it');
}
