// The Mount data a Windows snapshotter hands the runtime (containerd core/mount/mount_windows.go):
// type 'windows-layer', source = the container's scratch layer folder (holds sandbox.vhdx), and the
// read-only parents as the option `parentLayerPaths=<JSON array>`, immediate parent first, base last
// (the order PrepareLayer and Storage.Layers expect; hcsshim issue #278).
import type { Mount } from '../../layers/snapshotter';
import { invalidArgument } from '../../errors';

export interface WindowsLayerChain {
  /** The container's scratch layer folder. */
  scratchPath: string;
  /** Read-only parent layer folders, immediate parent first, base layer last. */
  parentLayerPaths: string[];
}

const PARENTS = 'parentLayerPaths=';

export function windowsLayerMount(chain: WindowsLayerChain): Mount {
  return { type: 'windows-layer', source: chain.scratchPath, options: [PARENTS + JSON.stringify(chain.parentLayerPaths)] };
}

/** The layer chain of a container's rootfs mounts; exactly one 'windows-layer' mount is expected. */
export function parseWindowsLayerMount(mounts: Mount[]): WindowsLayerChain {
  if (mounts.length !== 1 || mounts[0].type !== 'windows-layer') {
    throw invalidArgument(
      `A Windows container needs exactly one windows-layer root filesystem mount, got ${mounts.map((m) => m.type).join(', ') || 'none'}`,
      'prepare the root filesystem with the windowsfilter snapshotter',
    );
  }
  const m = mounts[0];
  let parents: unknown = [];
  const opt = m.options.find((o) => o.startsWith(PARENTS));
  if (opt !== undefined) {
    try {
      parents = JSON.parse(opt.slice(PARENTS.length));
    } catch {
      parents = undefined;
    }
  }
  if (!Array.isArray(parents) || !parents.every((p) => typeof p === 'string' && p !== '')) {
    throw invalidArgument('The windows-layer mount has a malformed parentLayerPaths option', 'recreate the container');
  }
  if (m.source === '') throw invalidArgument('The windows-layer mount has no scratch layer folder', 'recreate the container');
  return { scratchPath: m.source, parentLayerPaths: parents as string[] };
}
