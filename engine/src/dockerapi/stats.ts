// GET /containers/{id}/stats (one sample, or a stream of one a second) and /containers/{id}/top,
// from ContainerService.stats/top (cgroup accounting on Linux), in Docker's StatsJSON shape.
import { isKind } from '../errors';
import type { ProcessStats } from '../runtime/runtime';
import { queryBool } from './http';
import { route, type Ctx, type Route } from './router';

type Sample = ProcessStats & { id: string; name: string; read: string };

function cpuStats(s: Sample | undefined) {
  if (!s) return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  return {
    cpu_usage: { total_usage: s.cpuNs, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    system_cpu_usage: s.systemCpuNs,
    online_cpus: s.onlineCpus,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

/** moby api/types StatsJSON, the fields Silo measures. */
function statsJson(cur: Sample, pre: Sample | undefined) {
  return {
    read: cur.read,
    preread: pre?.read ?? '0001-01-01T00:00:00Z',
    pids_stats: { current: cur.pids },
    blkio_stats: { io_service_bytes_recursive: null, io_serviced_recursive: null },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(cur),
    precpu_stats: cpuStats(pre),
    memory_stats: { usage: cur.memoryUsage, stats: cur.memoryStats, limit: cur.memoryLimit },
    name: '/' + cur.name,
    id: cur.id,
  };
}

/**
 * A container that is not running has no sample: Docker answers with an empty StatsJSON carrying only
 * its name and id, once or, when streaming, every second (moby daemon/stats.go and the stats
 * collector's "publish empty stats containing only name and ID if not running"). `docker stats --all`
 * lists such containers with dashes instead of dropping them.
 */
function emptyStats(rec: { id: string; name: string }) {
  return {
    read: '0001-01-01T00:00:00Z',
    preread: '0001-01-01T00:00:00Z',
    pids_stats: {},
    blkio_stats: { io_service_bytes_recursive: null, io_serviced_recursive: null },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(undefined),
    precpu_stats: cpuStats(undefined),
    memory_stats: {},
    name: '/' + rec.name,
    id: rec.id,
  };
}

async function stats(ctx: Ctx) {
  const id = ctx.params[0];
  const rec = await ctx.engine.containers.resolve(id);
  const sample = async (): Promise<Sample | undefined> => {
    try {
      return { ...(await ctx.engine.containers.stats(rec.id)), read: new Date().toISOString() };
    } catch (err) {
      if (isKind(err, 'FailedPrecondition')) return undefined; // not running (now)
      throw err;
    }
  };
  const json = (cur: Sample | undefined, pre: Sample | undefined) => (cur ? statsJson(cur, pre) : emptyStats(rec));
  const stream = ctx.query.get('stream') === null ? true : queryBool(ctx.query, 'stream');
  const oneShot = queryBool(ctx.query, 'one-shot');
  let pre: Sample | undefined;
  let cur = await sample();
  if (!stream) {
    // Docker's stream=false waits for a second sample so the CPU share can be computed; one-shot does not.
    if (!oneShot && cur) {
      await new Promise((r) => setTimeout(r, 1000));
      pre = cur;
      cur = await sample();
    }
    return ctx.reply.json(200, json(cur, pre));
  }
  const out = ctx.reply.stream(200, 'application/json');
  while (!ctx.reply.closed.aborted) {
    out.write(JSON.stringify(json(cur, pre)) + '\n');
    await new Promise((r) => setTimeout(r, 1000));
    pre = cur;
    try {
      cur = await sample();
    } catch {
      break; // the container is gone
    }
  }
  out.end();
}

async function top(ctx: Ctx) {
  ctx.reply.json(200, await ctx.engine.containers.top(ctx.params[0], ctx.query.get('ps_args') || undefined));
}

export const statsRoutes: Route[] = [route('GET', '/containers/{}/stats', stats), route('GET', '/containers/{}/top', top)];
