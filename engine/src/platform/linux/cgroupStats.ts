// Resource use of a container, read from the cgroup its init process is in (cgroup v2 unified, or the
// v1 memory and cpuacct controllers), and its processes as `ps` shows them (moby daemon/top_unix.go).
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import { notFound } from '../../errors';
import type { ProcessStats } from '../../runtime/runtime';

/** controller ('' for v2) -> cgroup path of `pid`, from /proc/PID/cgroup. */
async function cgroupsOf(pid: number): Promise<Map<string, string>> {
  const text = await fs.readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => {
    throw notFound(`process ${pid} is gone`);
  });
  const m = new Map<string, string>();
  for (const line of text.split('\n').filter(Boolean)) {
    const [, ctrls, p] = line.split(':');
    for (const c of ctrls.split(',')) m.set(c, p);
  }
  return m;
}

async function num(file: string): Promise<number | undefined> {
  const t = (await fs.readFile(file, 'utf8').catch(() => '')).trim();
  if (!t || t === 'max') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

async function keyed(file: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await fs.readFile(file, 'utf8').catch(() => '')).split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}

/** Host CPU time in nanoseconds from /proc/stat (what Docker's system_cpu_usage is). */
async function systemCpuNs(): Promise<number> {
  const first = (await fs.readFile('/proc/stat', 'utf8')).split('\n')[0];
  const ticks = first.split(/\s+/).slice(1, 8).map(Number).reduce((a, b) => a + b, 0);
  return ticks * (1e9 / 100); // USER_HZ is 100 on Linux
}

export async function cgroupStats(pid: number): Promise<ProcessStats> {
  const cg = await cgroupsOf(pid);
  const v2 = cg.get('');
  const base = '/sys/fs/cgroup';
  let memoryUsage = 0, memoryLimit: number | undefined, cpuNs = 0, pids = 0;
  let memoryStats: Record<string, number> = {};
  if (v2 !== undefined && !cg.has('memory')) {
    const dir = `${base}${v2}`;
    memoryUsage = (await num(`${dir}/memory.current`)) ?? 0;
    memoryLimit = await num(`${dir}/memory.max`);
    memoryStats = await keyed(`${dir}/memory.stat`);
    cpuNs = ((await keyed(`${dir}/cpu.stat`)).usage_usec ?? 0) * 1000;
    pids = (await num(`${dir}/pids.current`)) ?? 0;
  } else {
    const mem = `${base}/memory${cg.get('memory') ?? ''}`;
    memoryUsage = (await num(`${mem}/memory.usage_in_bytes`)) ?? 0;
    const lim = await num(`${mem}/memory.limit_in_bytes`);
    memoryLimit = lim !== undefined && lim < 2 ** 62 ? lim : undefined;
    memoryStats = await keyed(`${mem}/memory.stat`);
    const cpuPath = cg.get('cpuacct') ?? cg.get('cpu') ?? '';
    cpuNs = (await num(`${base}/cpuacct${cpuPath}/cpuacct.usage`)) ?? (await num(`${base}/cpu,cpuacct${cpuPath}/cpuacct.usage`)) ?? 0;
    pids = (await num(`${base}/pids${cg.get('pids') ?? ''}/pids.current`)) ?? 0;
  }
  return { memoryUsage, memoryLimit: memoryLimit ?? os.totalmem(), memoryStats, cpuNs, systemCpuNs: await systemCpuNs(), onlineCpus: os.cpus().length, pids };
}

/** The processes in `pid`'s cgroup as `ps ARGS` prints them: titles and rows. */
export async function cgroupTop(pid: number, psArgs = '-ef'): Promise<{ Titles: string[]; Processes: string[][] }> {
  const cg = await cgroupsOf(pid);
  const dir = cg.has('memory') ? `/sys/fs/cgroup/memory${cg.get('memory')}` : `/sys/fs/cgroup${cg.get('') ?? ''}`;
  const procs = new Set((await fs.readFile(`${dir}/cgroup.procs`, 'utf8').catch(() => String(pid))).split('\n').filter(Boolean));
  const text = await new Promise<string>((resolve, reject) =>
    execFile('ps', [...psArgs.split(/\s+/).filter(Boolean)], { maxBuffer: 16 * 1024 * 1024 }, (err, out) => (err ? reject(err) : resolve(out))),
  );
  const lines = text.split('\n').filter(Boolean);
  const titles = lines[0].trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  const rows: string[][] = [];
  for (const l of lines.slice(1)) {
    const f = l.trim().split(/\s+/);
    if (pidCol === -1 || !procs.has(f[pidCol])) continue;
    // The last column (CMD) may hold spaces.
    rows.push([...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')]);
  }
  return { Titles: titles, Processes: rows };
}
