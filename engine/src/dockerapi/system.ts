// System routes: /_ping, /version, /info, /events, /auth — what Silo is, announced honestly.
import * as os from 'node:os';
import type { EngineEvent } from '../service/events';
import { VERSION } from '../service/engine';
import { parseTimeBound } from '../runtime/logs';
import { labelMatches, matchAll } from '../service/filters';
import { parseFilters } from './filters';
import { API_VERSION, MIN_API_VERSION, route, type Ctx, type Route } from './router';

/**
 * Headers every /_ping carries (moby api/server/router/system/system_routes.go pingHandler). OSType is
 * the engine's platform (linux, or windows on HCS), as in /version and /info: the CLI picks path rules
 * and defaults from it.
 */
function pingHeaders(osType: string): Record<string, string> {
  return { 'Api-Version': API_VERSION, 'OSType': osType, 'Docker-Experimental': 'false', 'Builder-Version': '1', 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache' };
}

function ping(ctx: Ctx) {
  const h = pingHeaders(ctx.engine.platform.os);
  if (ctx.req.method === 'HEAD') return ctx.reply.empty(200, { ...h, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '0' });
  ctx.reply.stream(200, 'text/plain; charset=utf-8', h).end('OK');
}

async function version(ctx: Ctx) {
  const i = await ctx.engine.info();
  const details = { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: i.os, Arch: i.architecture, KernelVersion: i.kernel, Runtime: i.runtime };
  ctx.reply.json(200, {
    Platform: { Name: 'Silo' },
    Components: [{ Name: 'Engine', Version: i.version, Details: { ...details, GitCommit: '', GoVersion: `node ${process.version}`, BuildTime: '', Experimental: 'false' } }],
    Version: i.version,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: `node ${process.version}`,
    Os: i.os,
    Arch: i.architecture,
    KernelVersion: i.kernel,
    BuildTime: '',
  });
}

async function info(ctx: Ctx) {
  const i = await ctx.engine.info();
  const cgroupVersion = i.cgroupMode === 'v2' ? '2' : i.cgroupMode ? '1' : '';
  ctx.reply.json(200, {
    ID: `silo-${os.hostname()}`,
    Containers: i.containers.total,
    ContainersRunning: i.containers.running,
    ContainersPaused: 0,
    ContainersStopped: i.containers.stopped,
    Images: i.images,
    Driver: i.storageDriver,
    DriverStatus: [],
    Plugins: { Volume: [], Network: ['null'], Authorization: null, Log: ['json-file'] },
    MemoryLimit: true,
    SwapLimit: false,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: false,
    CPUSet: false,
    PidsLimit: true,
    IPv4Forwarding: false,
    BridgeNfIptables: false,
    BridgeNfIp6tables: false,
    Debug: false,
    NFd: 0,
    OomKillDisable: false,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'json-file',
    CgroupDriver: i.os === 'linux' ? 'cgroupfs' : '', // Windows has no cgroups (dockerd on Windows answers "")
    CgroupVersion: cgroupVersion,
    NEventsListener: 0,
    KernelVersion: i.kernel,
    OperatingSystem: `Silo ${VERSION} on ${os.type()} ${os.release()}`,
    OSVersion: i.osVersion,
    OSType: i.os,
    Architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
    IndexServerAddress: '',
    RegistryConfig: null,
    NCPU: os.cpus().length,
    MemTotal: os.totalmem(),
    GenericResources: null,
    DockerRootDir: i.dataRoot,
    HttpProxy: '',
    HttpsProxy: '',
    NoProxy: '',
    Name: os.hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: i.version,
    Runtimes: { [i.runtime]: { path: i.runtime } },
    DefaultRuntime: i.runtime,
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true, // containers keep running while the engine is down (their monitors hold them)
    Isolation: i.defaultIsolation,
    InitBinary: '',
    ContainerdCommit: { ID: '', Expected: '' },
    RuncCommit: { ID: '', Expected: '' },
    InitCommit: { ID: '', Expected: '' },
    SecurityOptions: i.os === 'linux' ? ['name=seccomp,profile=default'] : [],
    Warnings: [],
  });
}

/** An engine event as Docker's events stream carries it (moby api/types/events Message). */
export function dockerEvent(e: EngineEvent): Record<string, unknown> {
  const from = e.attributes.image;
  return {
    ...(e.type === 'container' ? { status: e.action, id: e.id, ...(from ? { from } : {}) } : { status: e.action, id: e.id }),
    Type: e.type,
    Action: e.action,
    Actor: { ID: e.id, Attributes: e.attributes },
    scope: 'local',
    time: e.time,
    timeNano: e.timeNano,
  };
}

const EVENT_FILTERS = ['type', 'event', 'container', 'image', 'label'] as const;

function eventMatches(e: EngineEvent, f: ReturnType<typeof parseFilters>): boolean {
  return matchAll(f, (name, v) => {
    switch (name) {
      case 'type':
        return e.type === v;
      case 'event':
        return e.action === v || e.action.startsWith(v + ':');
      case 'container':
        return e.type === 'container' && (e.id === v || e.id.startsWith(v) || e.attributes.name === v);
      case 'image':
        return e.type === 'image' ? e.id === v || e.attributes.name === v : e.attributes.image === v;
      case 'label':
        return labelMatches(e.attributes, v);
      default:
        return false;
    }
  });
}

/** GET /events: recent events from `since`, then live ones until `until` or the client leaves. */
async function events(ctx: Ctx) {
  const filters = parseFilters(ctx.query.get('filters'), EVENT_FILTERS);
  const sinceRaw = ctx.query.get('since');
  const untilRaw = ctx.query.get('until');
  const since = sinceRaw ? parseTimeBound(sinceRaw) : undefined;
  const until = untilRaw ? parseTimeBound(untilRaw) : undefined;
  const out = ctx.reply.stream(200, 'application/json');
  const send = (e: EngineEvent) => {
    if (eventMatches(e, filters)) out.write(JSON.stringify(dockerEvent(e)) + '\n');
  };
  const inWindow = (e: EngineEvent) => (since === undefined || e.timeNano / 1e6 >= since) && (until === undefined || e.timeNano / 1e6 <= until);
  // Subscribe before replaying, so nothing falls between the two.
  const live: EngineEvent[] = [];
  let replayed = false;
  const sub = ctx.engine.events.onEvent((e) => (replayed ? inWindow(e) && send(e) : live.push(e)));
  if (since !== undefined) for (const e of ctx.engine.events.recent()) if (inWindow(e)) send(e);
  for (const e of live) if (inWindow(e)) send(e);
  replayed = true;
  const now = Date.now();
  await new Promise<void>((resolve) => {
    if (ctx.reply.closed.aborted) return resolve();
    ctx.reply.closed.addEventListener('abort', () => resolve(), { once: true });
    if (until !== undefined) setTimeout(resolve, Math.max(0, until - now));
  });
  sub.dispose();
  out.end();
}

export const systemRoutes: Route[] = [
  route('GET', '/_ping', ping),
  route('HEAD', '/_ping', ping),
  route('GET', '/version', version),
  route('GET', '/info', info),
  route('GET', '/events', events),
];
