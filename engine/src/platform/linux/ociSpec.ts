// The OCI runtime config.json for a container, with Docker's defaults: the capability set, masked
// and read-only paths, no-new-privileges, cgroup limits (moby oci/defaults.go, daemon/oci_linux.go).
// Pure: everything it needs comes in as arguments, so it is unit-tested without a runtime.
import { readFileSync } from 'node:fs';
import { invalidArgument } from '../../errors';
import type { ContainerSpec, ProcessSpec } from '../../runtime/runtime';

/** Docker's default capabilities (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const CPU_PERIOD = 100_000;

/**
 * Docker gives containers dockerd's own open-files limit (1048576 on most systems). A process may not
 * raise its hard limit, so take the engine's and cap it there: a sandbox with a lower hard limit
 * would otherwise refuse every container ("setrlimit RLIMIT_NOFILE: Operation not permitted").
 */
export const NOFILE_LIMIT = Math.min(1048576, hardNofileLimit());

function hardNofileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const hard = line?.trim().split(/\s+/)[4];
    return hard === 'unlimited' || hard === undefined ? 1048576 : Number(hard);
  } catch {
    return 1048576;
  }
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home?: string;
}

/** Reads a file of the container's image by absolute path ('/etc/passwd'); undefined when absent. */
export type ImageFileReader = (absPath: string) => string | undefined;

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

function parsePasswd(text: string | undefined): PasswdEntry[] {
  return (text ?? '').split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) return [];
    return [{ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] }];
  });
}

function parseGroup(text: string | undefined): GroupEntry[] {
  return (text ?? '').split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) return [];
    return [{ name: f[0], gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] }];
  });
}

const NUMERIC = /^\d+$/;

/**
 * Resolves `-u` / USER ("uid", "uid:gid", "name", "name:group") against the image's /etc/passwd and
 * /etc/group — never the host's. Numeric ids need no entry, as in Docker.
 */
export function resolveUser(user: string, readFile: ImageFileReader): ResolvedUser {
  const spec = user || '0';
  const [u, g] = spec.split(':', 2);
  const passwd = parsePasswd(readFile('/etc/passwd'));
  const groups = parseGroup(readFile('/etc/group'));
  let uid: number;
  let gid: number;
  let home: string | undefined;
  let name: string | undefined;
  if (NUMERIC.test(u)) {
    uid = Number(u);
    const entry = passwd.find((p) => p.uid === uid);
    gid = entry?.gid ?? 0;
    home = entry?.home;
    name = entry?.name;
  } else {
    const entry = passwd.find((p) => p.name === u);
    if (!entry) throw invalidArgument(`unable to find user ${u}: no matching entries in passwd file`, 'use a numeric uid or add the user to the image');
    ({ uid, gid, home, name } = entry);
  }
  if (g !== undefined) {
    if (NUMERIC.test(g)) gid = Number(g);
    else {
      const entry = groups.find((e) => e.name === g);
      if (!entry) throw invalidArgument(`unable to find group ${g}: no matching entries in group file`, 'use a numeric gid');
      gid = entry.gid;
    }
  }
  const additionalGids = name ? groups.filter((e) => e.members.includes(name!) && e.gid !== gid).map((e) => e.gid) : [];
  return { uid, gid, additionalGids, home };
}

export interface OciSpecOptions {
  /** Paths of files the engine made for this container: /etc/hostname, /etc/hosts, /etc/resolv.conf. */
  etcFiles: { hostname: string; hosts: string; resolvConf: string };
  readImageFile: ImageFileReader;
  consoleSize?: { rows: number; cols: number };
}

function processSection(p: ProcessSpec, user: ResolvedUser, consoleSize?: { rows: number; cols: number }, hostname?: string) {
  const env = [...p.env];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  if (hostname && !env.some((e) => e.startsWith('HOSTNAME='))) env.push(`HOSTNAME=${hostname}`);
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/root'}`);
  if (p.terminal && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  const caps = user.uid === 0 ? DEFAULT_CAPABILITIES : [];
  return {
    terminal: p.terminal,
    ...(p.terminal && consoleSize ? { consoleSize: { height: consoleSize.rows, width: consoleSize.cols } } : {}),
    user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
    args: p.args,
    env,
    cwd: p.cwd || '/',
    capabilities: {
      bounding: DEFAULT_CAPABILITIES,
      effective: caps,
      permitted: DEFAULT_CAPABILITIES,
      inheritable: [],
      ambient: [],
    },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: NOFILE_LIMIT, soft: NOFILE_LIMIT }],
    noNewPrivileges: true,
  };
}

/** The process.json of `crun exec --process`. */
export function execProcess(p: ProcessSpec, readImageFile: ImageFileReader, consoleSize?: { rows: number; cols: number }) {
  return processSection(p, resolveUser(p.user, readImageFile), consoleSize);
}

export function ociSpec(spec: ContainerSpec, opts: OciSpecOptions) {
  if (!spec.process.args.length) throw invalidArgument('no command specified', 'give a command after the image name, or use an image with CMD or ENTRYPOINT');
  const user = resolveUser(spec.process.user, opts.readImageFile);
  const proc = processSection(spec.process, user, opts.consoleSize, spec.hostname);
  const resources: Record<string, unknown> = {
    devices: [{ allow: false, access: 'rwm' }],
  };
  if (spec.resources.memoryBytes) resources.memory = { limit: spec.resources.memoryBytes };
  if (spec.resources.nanoCpus) {
    resources.cpu = { quota: Math.round((spec.resources.nanoCpus * CPU_PERIOD) / 1e9), period: CPU_PERIOD };
  }
  if (spec.resources.pidsLimit) resources.pids = { limit: spec.resources.pidsLimit };

  const mounts: Array<{ destination: string; type: string; source: string; options?: string[] }> = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    { destination: '/etc/hostname', type: 'bind', source: opts.etcFiles.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: opts.etcFiles.hosts, options: ['rbind', 'rprivate'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: opts.etcFiles.resolvConf, options: ['rbind', 'rprivate'] },
  ];
  for (const m of spec.mounts) {
    mounts.push({ destination: m.target, type: 'bind', source: m.source, options: ['rbind', 'rprivate', m.readonly ? 'ro' : 'rw'] });
  }

  return {
    ociVersion: '1.0.2',
    process: proc,
    root: { path: 'rootfs', readonly: false },
    hostname: spec.hostname,
    mounts,
    linux: {
      cgroupsPath: `/silo/${spec.id}`,
      resources,
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
  };
}
