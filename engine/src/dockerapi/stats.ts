// GET /containers/{id}/stats (one sample, or a stream of one a second) and /containers/{id}/top,
// from ContainerService.stats/top (cgroup accounting on Linux), in Docker's StatsJSON shape.
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

async function stats(ctx: Ctx) {
  const id = ctx.params[0];
  const sample = async (): Promise<Sample> => ({ ...(await ctx.engine.containers.stats(id)), read: new Date().toISOString() });
  const stream = ctx.query.get('stream') === null ? true : queryBool(ctx.query, 'stream');
  const oneShot = queryBool(ctx.query, 'one-shot');
  let pre: Sample | undefined;
  let cur = await sample();
  if (!stream) {
    // Docker's stream=false waits for a second sample so the CPU share can be computed; one-shot does not.
    if (!oneShot) {
      await new Promise((r) => setTimeout(r, 1000));
      pre = cur;
      cur = await sample();
    }
    return ctx.reply.json(200, statsJson(cur, pre));
  }
  const out = ctx.reply.stream(200, 'application/json');
  while (!ctx.reply.closed.aborted) {
    out.write(JSON.stringify(statsJson(cur, pre)) + '\n');
    await new Promise((r) => setTimeout(r, 1000));
    pre = cur;
    try {
      cur = await sample();
    } catch {
      break; // the container stopped
    }
  }
  out.end();
}

async function top(ctx: Ctx) {
  ctx.reply.json(200, await ctx.engine.containers.top(ctx.params[0], ctx.query.get('ps_args') || undefined));
}

export const statsRoutes: Route[] = [route('GET', '/containers/{}/stats', stats), route('GET', '/containers/{}/top', top)];
