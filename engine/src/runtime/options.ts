// Docker's option strings, parsed and checked once: `-p [ip:]host:ctr[/proto]`, `-v host:ctr[:ro]`,
// `--memory 512m`, `--cpus 1.5`, `-e K=V`. The CLI calls these to fail early; the service validates
// the structured result again, since the Docker API and the editor send structured values directly.
import { invalidArgument } from '../errors';
import type { BindMount, PortMapping } from './runtime';

export function parsePortSpec(spec: string): PortMapping {
  const bad = (why: string) => invalidArgument(`invalid publish spec "${spec}": ${why}`, 'use [ip:]hostPort:containerPort[/tcp], e.g. 127.0.0.1:8080:80');
  let rest = spec;
  let protocol: 'tcp' | 'udp' = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash !== -1) {
    const p = rest.slice(slash + 1);
    if (p !== 'tcp' && p !== 'udp') throw bad(`unknown protocol "${p}"`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  let hostIp = '0.0.0.0';
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1];
    rest = v6[2];
  }
  const parts = rest.split(':');
  if (!v6 && parts.length === 3) hostIp = parts.shift()!;
  if (parts.length === 1) throw bad('a host port is required (Silo publishes no random ports yet)');
  if (parts.length !== 2) throw bad('too many colons');
  const [hostPort, containerPort] = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (!(hostPort >= 1 && hostPort <= 65535)) throw bad('host port must be 1-65535');
  if (!(containerPort >= 1 && containerPort <= 65535)) throw bad('container port must be 1-65535');
  if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(hostIp) && !hostIp.includes(':')) throw bad(`"${hostIp}" is not an IP address`);
  return { hostIp, hostPort, containerPort, protocol };
}

export function parseBindSpec(spec: string): BindMount {
  const parts = spec.split(':');
  const bad = (why: string) => invalidArgument(`invalid volume spec "${spec}": ${why}`, 'use /host/path:/container/path[:ro]');
  if (parts.length < 2 || parts.length > 3) throw bad('expected host:container[:options]');
  const [source, target, mode = 'rw'] = parts;
  if (!source.startsWith('/')) throw bad('named volumes are not supported yet; give an absolute host path');
  if (!target.startsWith('/')) throw bad('the container path must be absolute');
  if (target.split('/').includes('..')) throw bad('the container path must not contain ".."');
  const opts = mode.split(',');
  for (const o of opts) if (!['ro', 'rw', 'z', 'Z'].includes(o)) throw bad(`unknown option "${o}"`);
  return { source, target, readonly: opts.includes('ro') };
}

/** `512m`, `1g`, `1048576` (bytes), as Docker's RAMInBytes. */
export function parseMemory(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(value.trim());
  if (!m) throw invalidArgument(`invalid memory size "${value}"`, 'use a number with an optional unit: 512m, 1g');
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as '' | 'b' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.floor(Number(m[1]) * unit);
  // Docker's floor: the kernel needs room for the runtime itself (moby daemon/daemon_unix.go: 6 MB).
  if (bytes < 6 * 1024 * 1024) throw invalidArgument('minimum memory limit allowed is 6MB', 'give --memory 6m or more');
  return bytes;
}

export function parseCpus(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw invalidArgument(`invalid --cpus "${value}"`, 'give a positive number such as 0.5 or 2');
  return Math.round(n * 1e9);
}

/** `-e K=V` sets; `-e K` copies K from `from` (the CLI's environment) or drops it, as Docker does. */
export function parseEnv(values: string[], from: Record<string, string | undefined> = {}): string[] {
  const out: string[] = [];
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq === 0) throw invalidArgument(`invalid environment variable "${v}"`, 'use KEY=value');
    if (eq > 0) out.push(v);
    else if (from[v] !== undefined) out.push(`${v}=${from[v]}`);
  }
  return out;
}

/** An --env-file: KEY=VALUE lines; blank lines and # comments skipped; bare KEY copied as with -e. */
export function parseEnvFile(text: string, from: Record<string, string | undefined> = {}): string[] {
  const lines = text.split(/\r?\n/).map((l) => l.replace(/^\s+/, '')).filter((l) => l && !l.startsWith('#'));
  return parseEnv(lines, from);
}

/** Merges env lists: later entries replace earlier ones with the same key. */
export function mergeEnv(...lists: string[][]): string[] {
  const map = new Map<string, string>();
  for (const list of lists) for (const e of list) map.set(e.split('=', 1)[0], e);
  return [...map.values()];
}

const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12,
  PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22,
  URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, PWR: 30, SYS: 31,
};

/** 'SIGTERM', 'TERM', '15' -> 15. */
export function signalNumber(sig: string | number): number {
  if (typeof sig === 'number') return sig;
  if (/^\d+$/.test(sig)) {
    const n = Number(sig);
    if (n >= 1 && n <= 64) return n;
  }
  const n = SIGNALS[sig.toUpperCase().replace(/^SIG/, '')];
  if (!n) throw invalidArgument(`invalid signal: ${sig}`, 'use a name such as SIGTERM or a number such as 15');
  return n;
}
