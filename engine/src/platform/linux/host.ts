// What this Linux host offers containers: root, overlayfs, the cgroup layout, an OCI runtime, the
// monitor binary. Each missing piece is one clear error with what to do.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { permissionDenied, unavailable } from '../../errors';

/** v2: pure cgroup2; v1: legacy controllers only; hybrid: v1 controllers plus cgroup2 at /sys/fs/cgroup/unified. */
export type CgroupMode = 'v2' | 'v1' | 'hybrid';

export interface LinuxHost {
  cgroupMode: CgroupMode;
  runtimeName: 'crun' | 'runc';
  runtimePath: string;
  monitorPath: string;
  kernel: string;
}

interface MountEntry {
  target: string;
  type: string;
}

function mounts(): MountEntry[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const f = line.split(' ');
      return { target: f[1], type: f[2] };
    });
}

export function detectCgroupMode(entries: MountEntry[] = mounts()): CgroupMode {
  const root = entries.find((m) => m.target === '/sys/fs/cgroup');
  if (root?.type === 'cgroup2') return 'v2';
  const unified = entries.some((m) => m.target === '/sys/fs/cgroup/unified' && m.type === 'cgroup2');
  return unified ? 'hybrid' : 'v1';
}

/** Where a runtime is looked for: PATH, then the usual system dirs (sudo may have trimmed PATH). */
export const RUNTIME_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** An executable file named `name`, as `command -v` finds one: a non-executable match is skipped. */
function findOnPath(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').concat(RUNTIME_DIRS);
  for (const dir of dirs) {
    const p = path.join(dir, name);
    try {
      if (dir && statSync(p).isFile()) {
        accessSync(p, constants.X_OK);
        return p;
      }
    } catch {
      /* absent or not executable: keep looking */
    }
  }
  return undefined;
}

/** The monitor is built next to the engine bundle (dist/silo-monitor); SILO_MONITOR overrides. */
export function findMonitor(): string | undefined {
  const candidates = [process.env.SILO_MONITOR, path.join(__dirname, 'silo-monitor'), path.join(__dirname, '..', 'dist', 'silo-monitor')];
  // When run from sources (tests through tsx), __dirname is engine/src/platform/linux.
  candidates.push(path.resolve(__dirname, '../../../../dist/silo-monitor'));
  return candidates.find((p): p is string => !!p && existsSync(p));
}

let cached: LinuxHost | undefined;

/** Checks the host once; throws the first missing requirement. SILO_RUNTIME=crun|runc picks one. */
export function linuxHost(): LinuxHost {
  if (cached) return cached;
  if (process.getuid?.() !== 0) {
    throw permissionDenied('Silo runs Linux containers as root', 'run it with sudo (rootless mode is not supported yet)');
  }
  if (!readFileSync('/proc/filesystems', 'utf8').includes('overlay')) {
    throw unavailable('this kernel has no overlay filesystem', 'load it with `modprobe overlay`');
  }
  const wanted = process.env.SILO_RUNTIME;
  const order = wanted === 'runc' ? ['runc'] : wanted === 'crun' ? ['crun'] : ['crun', 'runc'];
  let runtimeName: 'crun' | 'runc' | undefined;
  let runtimePath: string | undefined;
  for (const name of order) {
    runtimePath = findOnPath(name);
    if (runtimePath) {
      runtimeName = name as 'crun' | 'runc';
      break;
    }
  }
  if (!runtimeName || !runtimePath) {
    throw unavailable('no OCI runtime found (crun or runc)', 'install one: `apt-get install crun`');
  }
  const monitorPath = findMonitor();
  if (!monitorPath) {
    throw unavailable('the silo-monitor binary is missing', 'build it with `npm run build` (needs a C compiler: `apt-get install gcc`)');
  }
  cached = { cgroupMode: detectCgroupMode(), runtimeName, runtimePath, monitorPath, kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() };
  return cached;
}
