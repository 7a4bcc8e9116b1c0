// The Linux composition: overlayfs snapshots and crun (or runc) under silo-monitor.
import * as path from 'node:path';
import { notImplemented } from '../../errors';
import type { Platform } from '../../service/engine';
import { linuxHost } from './host';
import { linuxSpecialFiles, trimNativeHeap } from './libc';
import { OciRuntime } from './ociRuntime';
import { OverlaySnapshotter } from './overlay';
import { cgroupStats, cgroupTop } from './cgroupStats';

export function linuxPlatform(root: string): Platform {
  const host = linuxHost();
  return {
    os: 'linux',
    snapshotter: new OverlaySnapshotter(path.join(root, 'layers'), path.join(root, 'snapshots'), linuxSpecialFiles),
    runtime: new OciRuntime(host),
    isolations: ['process'],
    accounting: { stats: cgroupStats, top: cgroupTop },
    facts: () => ({ kernel: host.kernel, cgroupMode: host.cgroupMode }),
    releaseMemory: trimNativeHeap,
    checkRunnable: (os, isolation) => {
      if (os === 'windows') throw notImplemented('this is a Windows image: build and run it on a Windows host', 'pulling and inspecting Windows images works here; running them needs Windows with the Containers feature');
      if (isolation === 'hyperv') throw notImplemented('Hyper-V isolation needs a Windows host', 'use --isolation process (the default) on Linux');
    },
  };
}
