// POST /containers/create: Docker's Config + HostConfig translated into the service's CreateOptions.
// Every field of Docker's schema is known here (moby api/types/container config.go, hostconfig.go):
// a field Silo maps is mapped, a field left at its zero value is fine, a field set to something Silo
// cannot honour is a 400 that names it, and a field Docker does not have is a 400 too. Nothing is
// created until the whole request is accepted.
import * as net from 'node:net';
import { invalidArgument, notFound, notImplemented } from '../errors';
import { formatPlatform, parsePlatform } from '../registry/platform';
import { parseBindSpec } from '../runtime/options';
import type { BindMount, PortMapping } from '../runtime/runtime';
import type { CreateOptions } from '../service/containers';
import type { Engine } from '../service/engine';
import { isPipeAddress as isPipePath } from './endpoint';
import { parseWindowsBind } from './windowsBinds';

type Json = Record<string, unknown>;

const CONFIG_MAPPED = ['Hostname', 'User', 'Env', 'Cmd', 'Image', 'WorkingDir', 'Entrypoint', 'Labels', 'Tty', 'OpenStdin', 'ExposedPorts'];
/** Fields with no effect on what runs (attach choices, metadata). */
const CONFIG_IGNORED = ['AttachStdin', 'AttachStdout', 'AttachStderr', 'StdinOnce', 'ArgsEscaped', 'HostConfig', 'NetworkingConfig', 'Platform'];
const CONFIG_UNSUPPORTED = ['Domainname', 'Healthcheck', 'Volumes', 'NetworkDisabled', 'MacAddress', 'OnBuild', 'StopSignal', 'StopTimeout', 'Shell'];

const HOST_MAPPED = ['Binds', 'PortBindings', 'AutoRemove', 'Memory', 'NanoCpus', 'Isolation', 'PidsLimit', 'RestartPolicy', 'NetworkMode', 'LogConfig', 'PublishAllPorts', 'Mounts', 'ConsoleSize', 'MemorySwappiness', 'Init'];
const HOST_UNSUPPORTED = [
  'ContainerIDFile', 'VolumeDriver', 'VolumesFrom', 'Annotations', 'CapAdd', 'CapDrop', 'CgroupnsMode', 'Dns', 'DnsOptions', 'DnsSearch',
  'ExtraHosts', 'GroupAdd', 'IpcMode', 'Cgroup', 'Links', 'OomScoreAdj', 'PidMode', 'Privileged', 'ReadonlyRootfs', 'SecurityOpt',
  'StorageOpt', 'Tmpfs', 'UTSMode', 'UsernsMode', 'ShmSize', 'Sysctls', 'Runtime', 'CpuShares', 'CgroupParent', 'BlkioWeight',
  'BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'CpuPeriod', 'CpuQuota',
  'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems', 'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'KernelMemory',
  'KernelMemoryTCP', 'MemoryReservation', 'MemorySwap', 'OomKillDisable', 'Ulimits', 'CpuCount', 'CpuPercent', 'IOMaximumIOps',
  'IOMaximumBandwidth', 'MaskedPaths', 'ReadonlyPaths',
];

/** Docker's zero values, as its Go structs send them: null, "", 0, false, [], {}. */
function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as Json).every(isZero);
  return false;
}

function checkFields(obj: Json, where: string, mapped: string[], ignored: string[], unsupported: string[]): void {
  for (const [k, v] of Object.entries(obj)) {
    if (mapped.includes(k) || ignored.includes(k)) continue;
    if (unsupported.includes(k)) {
      if (!isZero(v)) throw notImplemented(`${where}${k} is not supported by Silo`, `leave ${k} unset`);
      continue;
    }
    throw invalidArgument(`unknown field "${where}${k}" in the container configuration`);
  }
}

function strings(v: unknown, what: string): string[] | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw invalidArgument(`${what} must be a list of strings`);
}

function labels(v: unknown): Record<string, string> | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v as Json).every((x) => typeof x === 'string')) throw invalidArgument('Labels must be an object of strings');
  return v as Record<string, string>;
}

function num(v: unknown, what: string): number | undefined {
  if (v === null || v === undefined || v === 0) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalidArgument(`${what} must be a non-negative number`);
  return v;
}

/** A free TCP port on the host, for `-P` and `HostPort: ""` (Docker picks from its ephemeral range the same way). */
export function freePort(hostIp: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, hostIp === '0.0.0.0' ? undefined : hostIp, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function portBindings(host: Json, exposed: string[]): Promise<PortMapping[]> {
  const out: PortMapping[] = [];
  const raw = (host.PortBindings ?? {}) as Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;
  if (typeof raw !== 'object') throw invalidArgument('HostConfig.PortBindings must be an object');
  const wanted = new Map<string, Array<{ HostIp?: string; HostPort?: string }>>(Object.entries(raw).map(([k, v]) => [k, v ?? []]));
  if (host.PublishAllPorts === true) for (const p of exposed) if (!wanted.get(p)?.length) wanted.set(p, [{}]);
  for (const [key, binds] of wanted) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
    if (!m) throw invalidArgument(`invalid port "${key}" in HostConfig.PortBindings`, 'use PORT/tcp');
    const protocol = (m[2] ?? 'tcp') as string;
    if (protocol !== 'tcp') throw notImplemented(`publishing ${protocol} ports is not supported by Silo yet`, 'publish TCP ports');
    const containerPort = Number(m[1]);
    for (const b of binds) {
      const hostIp = b.HostIp || '0.0.0.0';
      if (net.isIP(hostIp) === 0) throw invalidArgument(`invalid host IP "${hostIp}" for port ${key}`);
      const hostPort = b.HostPort && b.HostPort !== '0' ? Number(b.HostPort.split('-')[0]) : await freePort(hostIp);
      if (!(Number.isInteger(hostPort) && hostPort >= 1 && hostPort <= 65535)) throw invalidArgument(`invalid host port "${b.HostPort}" for port ${key}`);
      out.push({ hostIp, hostPort, containerPort, protocol: 'tcp' });
    }
  }
  return out;
}

/** One Binds entry by the rule of the engine's platform: Linux paths, or Windows paths and pipes (windowsBinds.ts). */
function bindOf(spec: string, os: 'linux' | 'windows'): BindMount {
  if (os === 'linux') return parseBindSpec(spec);
  const m = parseWindowsBind(spec);
  if (m.type === 'volume') {
    throw notImplemented(`volumes are not supported by Silo yet: "${spec}" names ${m.source ? `the volume "${m.source}"` : 'an anonymous volume'}`, 'bind a host directory instead, e.g. C:\\host\\dir:C:\\dir');
  }
  return { source: m.source, target: m.target, readonly: m.readonly };
}

function mounts(host: Json, os: 'linux' | 'windows'): BindMount[] {
  const out: BindMount[] = [];
  for (const b of strings(host.Binds, 'HostConfig.Binds') ?? []) out.push(bindOf(b, os));
  const list = host.Mounts;
  if (list !== null && list !== undefined) {
    if (!Array.isArray(list)) throw invalidArgument('HostConfig.Mounts must be a list');
    // `npipe` mounts are Windows' (moby api/types/mount TypeNamedPipe); both types take the Binds rule.
    const types = os === 'windows' ? ['bind', 'npipe'] : ['bind'];
    for (const m of list as Json[]) {
      if (!types.includes(m.Type as string)) throw notImplemented(`mounts of type "${String(m.Type)}" are not supported by Silo yet`, `use ${types.join(' or ')} mounts`);
      if (typeof m.Source !== 'string' || typeof m.Target !== 'string') throw invalidArgument(`a ${String(m.Type)} mount needs Source and Target`);
      const b = bindOf(`${m.Source}:${m.Target}${m.ReadOnly ? ':ro' : ''}`, os);
      if (os === 'windows' && (m.Type === 'npipe') !== isPipePath(b.source)) {
        throw invalidArgument(`a mount of type ${String(m.Type)} cannot map ${m.Source}`, 'use type npipe for \\\\.\\pipe\\NAME and bind for directories');
      }
      out.push(b);
    }
  }
  return out;
}

/**
 * HostConfig.Isolation. A Linux engine answers `--isolation hyperv` with a 400 and one sentence, as
 * dockerd on Linux refuses any isolation but default (moby daemon/daemon_unix.go
 * verifyPlatformContainerSettings); on Windows the platform checks that the host has Hyper-V at create.
 */
function isolationOf(host: Json, engine: Engine): 'process' | 'hyperv' | 'default' {
  const isolation = (host.Isolation ?? '') as string;
  if (!['', 'default', 'process', 'hyperv'].includes(isolation)) throw invalidArgument(`invalid isolation "${isolation}"`, 'use default, process or hyperv');
  if (isolation === 'hyperv' && engine.platform.os === 'linux') {
    throw invalidArgument('invalid isolation "hyperv" on linux: Hyper-V isolation is for Windows containers on a Windows host', 'leave --isolation unset for Linux containers');
  }
  return isolation === 'hyperv' || isolation === 'process' ? isolation : 'default';
}

/**
 * `POST /containers/create?platform=os[/arch[/variant]]` (API 1.41): the image must be of that platform,
 * else 404 as dockerd answers (moby daemon/images/image.go GetImage: "image with reference %s was found
 * but does not match the specified platform"), so the docker CLI pulls the wanted platform and retries.
 */
async function checkPlatform(engine: Engine, image: string, wanted: string | undefined): Promise<void> {
  if (!wanted) return;
  const w = parsePlatform(wanted);
  const img = await engine.images.inspect(image);
  const have = { os: img.Os, architecture: img.Architecture, variant: img.Variant };
  if (w.os !== have.os || w.architecture !== have.architecture || (w.variant !== undefined && w.variant !== have.variant)) {
    throw notFound(`image with reference ${image} was found but does not match the specified platform: wanted ${formatPlatform({ ...w, osVersion: undefined })}, actual: ${formatPlatform(have)}`);
  }
}

/** Checks the whole request and returns what the service needs. Throws before anything exists. */
export async function createOptions(engine: Engine, body: Json | undefined, name: string | undefined, platform?: string): Promise<CreateOptions> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('the container configuration must be a JSON object');
  checkFields(body, '', CONFIG_MAPPED, CONFIG_IGNORED, CONFIG_UNSUPPORTED);
  const host = (body.HostConfig ?? {}) as Json;
  if (typeof host !== 'object' || Array.isArray(host)) throw invalidArgument('HostConfig must be an object');
  checkFields(host, 'HostConfig.', HOST_MAPPED, [], HOST_UNSUPPORTED);
  if (typeof body.Image !== 'string' || !body.Image) throw invalidArgument('no image given: Image is required');

  const restart = (host.RestartPolicy ?? {}) as { Name?: string; MaximumRetryCount?: number };
  if (restart.Name && restart.Name !== 'no') {
    throw notImplemented(`restart policy "${restart.Name}" is not supported by Silo yet: containers are never restarted automatically`, 'use --restart no (the default)');
  }
  const mode = (host.NetworkMode ?? '') as string;
  if (!['', 'default', 'bridge', 'none'].includes(mode)) {
    throw notImplemented(`network mode "${mode}" is not supported by Silo: each container has its own network namespace with published ports`, 'leave --network unset');
  }
  const netConf = body.NetworkingConfig as { EndpointsConfig?: Json } | undefined | null;
  for (const k of Object.keys(netConf?.EndpointsConfig ?? {})) {
    if (!['default', 'bridge', 'none'].includes(k)) throw notImplemented(`network "${k}" does not exist: Silo has no user-defined networks`);
  }
  const log = (host.LogConfig ?? {}) as { Type?: string; Config?: Record<string, string> };
  if (log.Type && log.Type !== 'json-file') throw notImplemented(`log driver "${log.Type}" is not supported by Silo`, 'Silo logs in the json-file format');
  const swappiness = host.MemorySwappiness;
  if (swappiness !== null && swappiness !== undefined && swappiness !== -1) throw notImplemented('HostConfig.MemorySwappiness is not supported by Silo', 'leave it unset');
  if (host.Init === true) throw notImplemented('--init is not supported by Silo yet', 'run without --init');

  const memoryBytes = num(host.Memory, 'HostConfig.Memory');
  if (memoryBytes !== undefined && memoryBytes < 6 * 1024 * 1024) throw invalidArgument('Minimum memory limit allowed is 6MB');
  const isolation = isolationOf(host, engine);
  const binds = mounts(host, engine.platform.os);
  await checkPlatform(engine, body.Image, platform);

  let exposed = Object.keys((body.ExposedPorts ?? {}) as Json);
  if (host.PublishAllPorts === true) {
    const img = await engine.images.inspect(body.Image);
    exposed = [...new Set([...exposed, ...Object.keys((img.Config?.ExposedPorts ?? {}) as Json)])];
  }
  const logMax = log.Config?.['max-size'];
  const logFiles = log.Config?.['max-file'];
  return {
    image: body.Image,
    name: name || undefined,
    cmd: strings(body.Cmd, 'Cmd'),
    // Docker: Entrypoint [""] or [] clears the image's entrypoint.
    entrypoint: body.Entrypoint === null || body.Entrypoint === undefined ? undefined : (strings(body.Entrypoint, 'Entrypoint') ?? []).filter((x, i, a) => !(a.length === 1 && x === '')),
    env: strings(body.Env, 'Env'),
    workingDir: (body.WorkingDir as string) || undefined,
    user: (body.User as string) || undefined,
    hostname: (body.Hostname as string) || undefined,
    tty: body.Tty === true,
    openStdin: body.OpenStdin === true,
    labels: labels(body.Labels),
    binds,
    ports: await portBindings(host, exposed),
    memoryBytes,
    nanoCpus: num(host.NanoCpus, 'HostConfig.NanoCpus'),
    pidsLimit: typeof host.PidsLimit === 'number' && host.PidsLimit > 0 ? host.PidsLimit : undefined,
    isolation,
    autoRemove: host.AutoRemove === true,
    ...(logMax ? { logMaxSize: sizeOf(logMax) } : {}),
    ...(logFiles ? { logMaxFiles: Number(logFiles) } : {}),
  };
}

function sizeOf(v: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(v.trim());
  if (!m) throw invalidArgument(`invalid log max-size "${v}"`, 'use a size such as 10m');
  return Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[m[2].toLowerCase()];
}
