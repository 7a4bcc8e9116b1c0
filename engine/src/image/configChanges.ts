// `docker import --change` and `docker commit --change`: Dockerfile instructions that edit an image
// config (moby builder/dockerfile: BuildFromConfig accepts CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK,
// LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR). Quoting follows Dockerfile rules for the
// key=value forms; variables are not expanded.
import * as path from 'node:path';
import { invalidArgument } from '../errors';
import type { ContainerConfig } from './types';

/** Splits on unquoted whitespace; "..." and '...' group, backslash escapes the next character. */
export function shellWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw invalidArgument(`unterminated quote in "${s}"`);
  if (inWord) words.push(cur);
  return words;
}

/** The exec form ["a", "b"], or undefined when the text is not a JSON array of strings (then it is shell form). */
export function execForm(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // Not JSON: Docker treats it as shell form.
  }
  return undefined;
}

function jsonOrShell(rest: string, os: string): string[] {
  const t = rest.trim();
  return execForm(t) ?? (os === 'windows' ? ['cmd', '/S', '/C', t] : ['/bin/sh', '-c', t]);
}

function pairs(rest: string, keyword: string): Array<[string, string]> {
  const words = shellWords(rest);
  if (words.length === 0) throw invalidArgument(`${keyword} requires at least one argument`);
  if (!words[0].includes('=')) {
    // Legacy form "ENV name value with spaces".
    const m = /^\s*(\S+)\s+([\s\S]*)$/.exec(rest);
    if (!m) throw invalidArgument(`${keyword} ${words[0]} must have a value`);
    return [[m[1], m[2].trim()]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw invalidArgument(`${keyword} argument "${w}" is not of the form key=value`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

/** Go's time.ParseDuration subset Docker uses for HEALTHCHECK options, in nanoseconds. */
function durationNs(s: string): number {
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * unit[m[2]];
    consumed = re.lastIndex;
  }
  if (consumed !== s.length || s.length === 0) throw invalidArgument(`invalid duration "${s}"`, 'use a Go duration such as 30s or 1m30s');
  return Math.round(total);
}

/** Returns a new config with each change applied in order. */
export function applyConfigChanges(base: ContainerConfig, changes: readonly string[], os: string): ContainerConfig {
  const c: ContainerConfig = structuredClone(base);
  let cmdSet = false;
  for (const raw of changes) {
    const line = raw.trim();
    const m = /^(\S+)\s*([\s\S]*)$/.exec(line);
    if (!m) continue;
    const keyword = m[1].toUpperCase();
    const rest = m[2];
    switch (keyword) {
      case 'CMD':
        c.Cmd = jsonOrShell(rest, os);
        cmdSet = true;
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = rest.trim() === '' ? null : jsonOrShell(rest, os);
        if (!cmdSet) c.Cmd = null; // moby dispatchers.go: ENTRYPOINT resets a CMD not set in the same build
        break;
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of pairs(rest, 'ENV')) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs(rest, 'LABEL')) };
        break;
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const w of shellWords(rest)) {
          const pm = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
          if (!pm) throw invalidArgument(`invalid port "${w}" in EXPOSE`, 'use PORT[/tcp|udp|sctp] or a range START-END');
          const lo = Number(pm[1]);
          const hi = pm[2] ? Number(pm[2]) : lo;
          if (lo < 1 || hi > 65535 || hi < lo) throw invalidArgument(`invalid port range "${w}" in EXPOSE`);
          for (let p = lo; p <= hi; p++) ports[`${p}/${(pm[3] ?? 'tcp').toLowerCase()}`] = {};
        }
        c.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const t = rest.trim();
        const vols = execForm(t) ?? shellWords(t);
        if (vols.length === 0 || vols.some((v) => v === '')) throw invalidArgument('VOLUME requires at least one path');
        c.Volumes = { ...(c.Volumes ?? {}), ...Object.fromEntries(vols.map((v) => [v, {}])) };
        break;
      }
      case 'USER':
        if (!rest.trim()) throw invalidArgument('USER requires a user name or ID');
        c.User = rest.trim();
        break;
      case 'WORKDIR': {
        const w = rest.trim();
        if (!w) throw invalidArgument('WORKDIR requires a path');
        c.WorkingDir = os === 'windows' ? w : path.posix.resolve(c.WorkingDir || '/', w);
        break;
      }
      case 'STOPSIGNAL':
        if (!/^(SIG)?[A-Z0-9+-]+$|^\d+$/.test(rest.trim())) throw invalidArgument(`invalid STOPSIGNAL "${rest.trim()}"`);
        c.StopSignal = rest.trim();
        break;
      case 'ONBUILD': {
        const trigger = rest.trim();
        const k = trigger.split(/\s+/)[0]?.toUpperCase();
        if (!k) throw invalidArgument('ONBUILD requires an instruction');
        if (k === 'ONBUILD' || k === 'FROM' || k === 'MAINTAINER') throw invalidArgument(`${k} is not allowed as an ONBUILD trigger`);
        c.OnBuild = [...(c.OnBuild ?? []), trigger];
        break;
      }
      case 'HEALTHCHECK': {
        const words = shellWords(rest);
        const hc: NonNullable<ContainerConfig['Healthcheck']> = {};
        let i = 0;
        for (; i < words.length && words[i].startsWith('--'); i++) {
          const [flag, value = ''] = words[i].slice(2).split(/=(.*)/s);
          if (flag === 'interval') hc.Interval = durationNs(value);
          else if (flag === 'timeout') hc.Timeout = durationNs(value);
          else if (flag === 'start-period') hc.StartPeriod = durationNs(value);
          else if (flag === 'retries') hc.Retries = Number(value);
          else throw invalidArgument(`unknown HEALTHCHECK flag --${flag}`);
        }
        const kind = words[i]?.toUpperCase();
        if (kind === 'NONE') hc.Test = ['NONE'];
        else if (kind === 'CMD') {
          const after = rest.slice(rest.search(/\bCMD\b/i) + 3).trim();
          const argv = execForm(after);
          hc.Test = argv ? ['CMD', ...argv] : ['CMD-SHELL', after];
        } else throw invalidArgument('HEALTHCHECK must be NONE or CMD ...');
        c.Healthcheck = hc;
        break;
      }
      default:
        throw invalidArgument(`${m[1]} is not a valid change command`, 'use CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME or WORKDIR');
    }
  }
  return c;
}
