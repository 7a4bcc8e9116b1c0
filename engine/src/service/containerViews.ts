// Docker-shaped views of a container record: the `ps` row and `inspect` JSON. Shared by the engine
// protocol and the Docker API so both show the same facts.
import { humanStatus, type ContainerRecord } from '../runtime/container';
import type { ContainerSummary } from '../protocol';
import { labelMatches, matchAll, type Filters } from './filters';

function quoteArg(a: string): string {
  return /^[A-Za-z0-9_\-./:=@]+$/.test(a) ? a : JSON.stringify(a);
}

export function containerSummary(rec: ContainerRecord, now = Date.now()): ContainerSummary {
  return {
    id: rec.id,
    name: rec.name,
    image: rec.image,
    imageId: rec.imageId,
    command: rec.spec.process.args.map(quoteArg).join(' '),
    created: rec.created,
    state: rec.state.status,
    status: humanStatus(rec.state, now),
    ports: rec.spec.ports,
    isolation: rec.spec.isolation,
    exitCode: rec.state.exitCode,
  };
}

/** `docker inspect` of a container (Engine API ContainerInspectResponse, the fields Silo has). */
export function containerInspect(rec: ContainerRecord, storageDriver: string, dataRoot: string): Record<string, unknown> {
  const s = rec.state;
  const portBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of rec.spec.ports) {
    (portBindings[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  }
  return {
    Id: rec.id,
    Created: rec.created,
    Path: rec.spec.process.args[0],
    Args: rec.spec.process.args.slice(1),
    State: {
      Status: s.status,
      Running: s.status === 'running',
      Paused: false,
      Restarting: false,
      OOMKilled: s.oomKilled,
      Dead: s.status === 'dead',
      Pid: s.pid,
      ExitCode: s.exitCode,
      Error: s.error,
      StartedAt: s.startedAt,
      FinishedAt: s.finishedAt,
    },
    Image: rec.imageId,
    ResolvConfPath: `${dataRoot}/containers/${rec.id}/resolv.conf`,
    HostnamePath: `${dataRoot}/containers/${rec.id}/hostname`,
    HostsPath: `${dataRoot}/containers/${rec.id}/hosts`,
    LogPath: `${dataRoot}/containers/${rec.id}/container.log`,
    Name: '/' + rec.name,
    RestartCount: s.restartCount,
    Driver: storageDriver,
    Platform: rec.spec.os,
    HostConfig: {
      Binds: rec.hostConfig.binds.length ? rec.hostConfig.binds : null,
      LogConfig: { Type: 'json-file', Config: { 'max-size': String(rec.hostConfig.logMaxSize ?? 20 * 1024 * 1024), 'max-file': String(rec.hostConfig.logMaxFiles ?? 5) } },
      NetworkMode: 'none',
      PortBindings: portBindings,
      AutoRemove: rec.hostConfig.autoRemove,
      Isolation: rec.spec.os === 'windows' ? rec.spec.isolation : '',
      Memory: rec.spec.resources.memoryBytes ?? 0,
      NanoCpus: rec.spec.resources.nanoCpus ?? 0,
      PidsLimit: rec.spec.resources.pidsLimit ?? null,
    },
    GraphDriver: { Name: storageDriver, Data: null },
    Mounts: rec.spec.mounts.map((m) => ({ Type: 'bind', Source: m.source, Destination: m.target, Mode: m.readonly ? 'ro' : '', RW: !m.readonly, Propagation: 'rprivate' })),
    Config: {
      Hostname: rec.spec.hostname,
      User: rec.config.user,
      Tty: rec.config.tty,
      OpenStdin: rec.config.openStdin,
      Env: rec.config.env,
      Cmd: rec.config.cmd,
      Entrypoint: rec.config.entrypoint.length ? rec.config.entrypoint : null,
      Image: rec.image,
      WorkingDir: rec.config.workingDir === '/' ? '' : rec.config.workingDir,
      Labels: rec.config.labels,
      StopSignal: rec.spec.stopSignal,
    },
    // No Docker networks: each container has its own namespace with loopback and published ports.
    NetworkSettings: { Ports: Object.fromEntries(Object.entries(portBindings)), Networks: {} },
  };
}

/** The filters `ps` takes (docker's, those Silo's records can answer). */
export const CONTAINER_FILTERS = ['id', 'name', 'status', 'label', 'ancestor', 'exited', 'before', 'since'] as const;

/**
 * `ps`: the running containers, or all with `all` (or a status/exited filter, as docker does), that
 * pass every filter. Shared by the engine protocol and the Docker API.
 */
export function selectContainers(recs: ContainerRecord[], all: boolean, filters: Filters): ContainerRecord[] {
  const every = all || filters.has('status') || filters.has('exited');
  const created = (key: string) => recs.find((r) => r.id === key || r.id.startsWith(key) || r.name === key.replace(/^\//, ''))?.created;
  return recs.filter((r) => (every || r.state.status === 'running') && matchAll(filters, (name, v) => {
    switch (name) {
      case 'id':
        return r.id.startsWith(v);
      case 'name':
        return new RegExp(v.replace(/^\//, '')).test(r.name);
      case 'status':
        return r.state.status === v;
      case 'label':
        return labelMatches(r.config.labels, v);
      case 'ancestor':
        return r.image === v || r.imageId === v || r.imageId === `sha256:${v}` || r.image.split(':')[0] === v;
      case 'exited':
        return r.state.status === 'exited' && String(r.state.exitCode) === v;
      case 'before': {
        const t = created(v);
        return !!t && r.created < t;
      }
      case 'since': {
        const t = created(v);
        return !!t && r.created > t;
      }
      default:
        return false;
    }
  }));
}
