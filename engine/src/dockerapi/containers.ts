// Container routes: list, create, inspect, start, stop, kill, restart, wait, remove, changes, resize,
// logs and attach — each one call into ContainerService, in Docker's shapes.
import type { Duplex, Writable } from 'node:stream';
import { failedPrecondition, invalidArgument, SiloError } from '../errors';
import type { ContainerRecord } from '../runtime/container';
import type { LogLine } from '../runtime/logs';
import { CONTAINER_FILTERS, containerInspect, containerSummary, selectContainers } from '../service/containerViews';
import type { Engine } from '../service/engine';
import type { ExitStatus } from '../runtime/runtime';
import { rfc3339Nano } from '../service/images';
import { createOptions } from './containerCreate';
import { labelMatches, matchAll } from '../service/filters';
import { parseFilters } from './filters';
import { queryBool, queryInt } from './http';
import { route, type Ctx, type Route } from './router';
import { frame, MULTIPLEXED_STREAM, RAW_STREAM, StdStream } from './stdcopy';


/** One row of GET /containers/json (moby api/types Container). */
export function dockerSummary(rec: ContainerRecord): Record<string, unknown> {
  const s = containerSummary(rec);
  return {
    Id: rec.id,
    Names: ['/' + rec.name],
    Image: rec.image,
    ImageID: rec.imageId,
    Command: s.command,
    Created: Math.floor(Date.parse(rec.created) / 1000),
    Ports: rec.spec.ports.map((p) => ({ IP: p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol })),
    Labels: rec.config.labels,
    State: rec.state.status,
    Status: s.status,
    HostConfig: { NetworkMode: 'none' },
    NetworkSettings: { Networks: {} },
    Mounts: rec.spec.mounts.map((m) => ({ Type: 'bind', Source: m.source, Destination: m.target, Mode: m.readonly ? 'ro' : '', RW: !m.readonly, Propagation: 'rprivate' })),
  };
}

async function list(ctx: Ctx) {
  const filters = parseFilters(ctx.query.get('filters'), CONTAINER_FILTERS);
  const limit = queryInt(ctx.query, 'limit');
  // moby includeContainerInList: a limit lists containers in every state, as `all` does.
  const all = queryBool(ctx.query, 'all') || (limit !== undefined && limit > 0);
  const recs = await Promise.all((await ctx.engine.containers.all()).map((c) => ctx.engine.containers.resolve(c.id).catch(() => c)));
  let rows = selectContainers(recs, all, filters);
  if (limit && limit > 0) rows = rows.slice(0, limit);
  ctx.reply.json(200, rows.map(dockerSummary));
}

async function create(ctx: Ctx) {
  const opts = await createOptions(ctx.engine, await ctx.json(), ctx.query.get('name') ?? undefined, ctx.query.get('platform') || undefined);
  const rec = await ctx.engine.containers.create(opts);
  ctx.reply.json(201, { Id: rec.id, Warnings: [] });
}

async function inspect(ctx: Ctx) {
  const rec = await ctx.engine.containers.resolve(ctx.params[0]);
  ctx.reply.json(200, containerInspect(rec, ctx.engine.platform.snapshotter.name, ctx.engine.root));
}

async function start(ctx: Ctx) {
  const rec = await ctx.engine.containers.resolve(ctx.params[0]);
  if (rec.state.status === 'running') return ctx.reply.empty(304);
  await ctx.engine.containers.start(rec.id);
  ctx.reply.empty(204);
}

async function stop(ctx: Ctx) {
  const rec = await ctx.engine.containers.resolve(ctx.params[0]);
  if (rec.state.status !== 'running') return ctx.reply.empty(304);
  await ctx.engine.containers.stop(rec.id, queryInt(ctx.query, 't') ?? 10);
  ctx.reply.empty(204);
}

async function restart(ctx: Ctx) {
  await ctx.engine.containers.restart(ctx.params[0], queryInt(ctx.query, 't') ?? 10);
  ctx.reply.empty(204);
}

async function kill(ctx: Ctx) {
  await ctx.engine.containers.kill(ctx.params[0], ctx.query.get('signal') || 'SIGKILL').catch((err) => {
    // Docker's wording (moby daemon/kill.go): the operation, then the cause.
    if (err instanceof SiloError) throw new SiloError(err.kind, `Cannot kill container: ${ctx.params[0]}: ${err.message}`, err.hint);
    throw err;
  });
  ctx.reply.empty(204);
}

async function remove(ctx: Ctx) {
  if (queryBool(ctx.query, 'link')) throw invalidArgument('links are not supported by Silo');
  await ctx.engine.containers.remove(ctx.params[0], { force: queryBool(ctx.query, 'force') });
  ctx.reply.empty(204);
}

/**
 * POST /containers/prune: every container that is not running (created, exited, dead), as
 * `docker container prune` removes them (moby daemon/prune.go ContainersPrune); `label` filters apply.
 * SpaceReclaimed is 0: Silo does not measure writable layers on removal.
 */
async function prune(ctx: Ctx) {
  const filters = parseFilters(ctx.query.get('filters'), ['label']);
  const deleted: string[] = [];
  for (const c of await ctx.engine.containers.all()) {
    const rec = await ctx.engine.containers.resolve(c.id).catch(() => undefined);
    if (!rec || rec.state.status === 'running') continue;
    if (!matchAll(filters, (_name, v) => labelMatches(rec.config.labels, v))) continue;
    deleted.push(await ctx.engine.containers.remove(rec.id));
  }
  ctx.reply.json(200, { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: 0 });
}

/** POST /containers/{id}/wait?condition=not-running|next-exit|removed. Headers go out at once, the body at the exit. */
async function wait(ctx: Ctx) {
  const condition = ctx.query.get('condition') || 'not-running';
  if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw invalidArgument(`invalid condition: "${condition}"`, 'use not-running, next-exit or removed');
  const rec = await ctx.engine.containers.resolve(ctx.params[0]);
  const die = ctx.engine.containers.nextEvent(rec.id, 'die');
  const out = ctx.reply.stream(200, 'application/json');
  let exit: ExitStatus;
  try {
    if (condition === 'next-exit') {
      const a = await die.promise;
      exit = { exitCode: Number(a.exitCode), oomKilled: a.oomKilled === 'true', finishedAt: '' };
    } else {
      exit = await ctx.engine.containers.wait(rec.id, { removed: condition === 'removed' });
    }
    out.end(JSON.stringify({ StatusCode: exit.exitCode, Error: null }) + '\n');
  } catch (err) {
    out.end(JSON.stringify({ StatusCode: -1, Error: { Message: err instanceof Error ? err.message : String(err) } }) + '\n');
  } finally {
    die.dispose();
  }
}

async function changes(ctx: Ctx) {
  const kinds = { C: 0, A: 1, D: 2 } as const;
  const list = await ctx.engine.containers.diff(ctx.params[0]);
  ctx.reply.json(200, list.length ? list.map((c) => ({ Path: c.path, Kind: kinds[c.kind] })) : null);
}

async function resize(ctx: Ctx) {
  const h = queryInt(ctx.query, 'h') ?? 0;
  const w = queryInt(ctx.query, 'w') ?? 0;
  const conn = await ctx.engine.containers.attach(ctx.params[0]);
  conn.resize(h, w);
  conn.close();
  ctx.reply.empty(200);
}

/** Writes log lines in Docker's framing: raw with a TTY, multiplexed without. */
export function lineWriter(out: Writable, tty: boolean, opts: { stdout: boolean; stderr: boolean; timestamps?: boolean }) {
  return (line: LogLine) => {
    if (line.stream === 'stdout' ? !opts.stdout : !opts.stderr) return true;
    const text = opts.timestamps ? `${rfc3339Nano(line.time)} ${line.log}` : line.log;
    const data = Buffer.from(text, 'utf8');
    return out.write(tty ? data : frame(line.stream === 'stdout' ? StdStream.Stdout : StdStream.Stderr, data));
  };
}

/** Docker's `since`/`until`: Unix seconds with an optional fraction; 0 means unset. */
function timeBound(v: string | null): string | undefined {
  if (!v || v === '0') return undefined;
  return v;
}

async function logs(ctx: Ctx) {
  const q = ctx.query;
  const stdout = queryBool(q, 'stdout');
  const stderr = queryBool(q, 'stderr');
  if (!stdout && !stderr) throw invalidArgument('Bad parameters: you must choose at least one stream');
  const rec = await ctx.engine.containers.resolve(ctx.params[0]);
  const tailRaw = q.get('tail');
  const tail = !tailRaw || tailRaw === 'all' ? undefined : Number(tailRaw);
  if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) throw invalidArgument(`invalid tail "${tailRaw}"`, 'use a number or "all"');
  const ac = new AbortController();
  ctx.reply.closed.addEventListener('abort', () => ac.abort(), { once: true });
  const lines = await ctx.engine.containers.logs(rec.id, { follow: queryBool(q, 'follow'), since: timeBound(q.get('since')), until: timeBound(q.get('until')), tail, signal: ac.signal });
  const out = ctx.reply.stream(200, rec.config.tty ? RAW_STREAM : MULTIPLEXED_STREAM);
  const write = lineWriter(out, rec.config.tty, { stdout, stderr, timestamps: queryBool(q, 'timestamps') });
  for await (const line of lines) {
    if (!write(line)) await new Promise((r) => out.once('drain', r));
  }
  out.end();
}

/** Sends the client's input to the container's stdin once it runs; until then it is buffered. */
function pipeStdin(engine: Engine, rec: ContainerRecord, sock: Duplex, closed: AbortSignal): void {
  const pending: Buffer[] = [];
  let ended = false;
  let sink: { writeStdin(b: Buffer): void; closeStdin(): void; close(): void } | undefined;
  sock.on('data', (c: Buffer) => (sink ? sink.writeStdin(c) : pending.push(c)));
  sock.on('end', () => {
    ended = true;
    sink?.closeStdin();
  });
  const open = async () => {
    if (rec.state.status !== 'running') {
      const started = new Promise<void>((resolve) => {
        const sub = engine.events.onEvent((e) => {
          if (e.type === 'container' && e.id === rec.id && e.action === 'start') {
            sub.dispose();
            resolve();
          }
        });
        closed.addEventListener('abort', () => {
          sub.dispose();
          resolve();
        }, { once: true });
      });
      // It may have started between the resolve and the subscription.
      const now = await engine.containers.resolve(rec.id).catch(() => undefined);
      if (now?.state.status !== 'running') await started;
    }
    if (closed.aborted) return;
    const conn = await engine.containers.attach(rec.id);
    sink = conn;
    for (const c of pending.splice(0)) conn.writeStdin(c);
    if (ended) conn.closeStdin();
    closed.addEventListener('abort', () => conn.close(), { once: true });
    void conn.exited.then(() => conn.close());
  };
  open().catch(() => undefined);
}

/** POST /containers/{id}/attach: hijacks the connection; output until the container exits. */
async function attach(ctx: Ctx) {
  const q = ctx.query;
  const rec = await ctx.engine.containers.resolve(ctx.params[0]);
  if (rec.state.status !== 'running' && rec.state.status !== 'created') throw failedPrecondition('You cannot attach to a stopped container, start it first');
  const stream = queryBool(q, 'stream');
  const sock = ctx.reply.hijack(rec.config.tty ? RAW_STREAM : MULTIPLEXED_STREAM);
  const ac = new AbortController();
  sock.on('close', () => ac.abort());
  sock.on('error', () => ac.abort());
  if (queryBool(q, 'stdin') && rec.config.openStdin) pipeStdin(ctx.engine, rec, sock, ac.signal);
  else sock.resume();
  const write = lineWriter(sock, rec.config.tty, { stdout: queryBool(q, 'stdout'), stderr: queryBool(q, 'stderr') });
  const created = rec.state.status === 'created';
  const lines = await ctx.engine.containers.logs(rec.id, {
    follow: stream,
    awaitStart: created,
    tail: queryBool(q, 'logs') || created ? undefined : 0,
    signal: ac.signal,
  });
  try {
    for await (const line of lines) if (!write(line)) await new Promise((r) => sock.once('drain', r));
  } finally {
    ac.abort();
    sock.end();
  }
}

export const containerRoutes: Route[] = [
  route('GET', '/containers/json', list),
  route('POST', '/containers/create', create),
  route('POST', '/containers/prune', prune),
  route('GET', '/containers/{}/json', inspect),
  route('POST', '/containers/{}/start', start),
  route('POST', '/containers/{}/stop', stop),
  route('POST', '/containers/{}/restart', restart),
  route('POST', '/containers/{}/kill', kill),
  route('DELETE', '/containers/{}', remove),
  route('POST', '/containers/{}/wait', wait),
  route('GET', '/containers/{}/changes', changes),
  route('POST', '/containers/{}/resize', resize),
  route('GET', '/containers/{}/logs', logs),
  route('POST', '/containers/{}/attach', attach),
];
