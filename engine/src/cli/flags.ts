// Docker-style flag parsing: `-it` bundles, `--name=x` and `--name x`, repeatable flags, `--`, and
// (for run/exec) options end at the first positional so the command's own flags pass through.
import { invalidArgument } from '../errors';

export type FlagKind = 'bool' | 'string' | 'list';

export interface FlagSpec {
  name: string; // long name without dashes
  short?: string;
  kind: FlagKind;
  help: string;
  /** Shown in help as the value's name: --memory BYTES */
  value?: string;
}

export interface Parsed {
  flags: Record<string, string | boolean | string[] | undefined>;
  args: string[];
}

export class UsageError extends Error {}

export function parseFlags(specs: FlagSpec[], argv: string[], opts: { stopAtPositional?: boolean; command: string }): Parsed {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const flags: Parsed['flags'] = {};
  const args: string[] = [];
  const unknown = (f: string) => invalidArgument(`unknown flag: ${f}`, `see 'silo ${opts.command} --help'`);
  const set = (spec: FlagSpec, value: string | boolean) => {
    if (spec.kind === 'list') flags[spec.name] = [...((flags[spec.name] as string[] | undefined) ?? []), String(value)];
    else flags[spec.name] = value;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq === -1 ? undefined : eq);
      const spec = byLong.get(name);
      if (!spec) throw unknown(`--${name}`);
      if (spec.kind === 'bool') {
        const v = eq === -1 ? 'true' : a.slice(eq + 1);
        if (v !== 'true' && v !== 'false') throw invalidArgument(`invalid argument "${v}" for "--${name}" flag: use true or false`);
        set(spec, v === 'true');
      } else {
        const v = eq === -1 ? argv[++i] : a.slice(eq + 1);
        if (v === undefined) throw invalidArgument(`flag needs an argument: --${name}`, `see 'silo ${opts.command} --help'`);
        set(spec, v);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // -it, -p8080:80, -e=K=V
      for (let j = 1; j < a.length; j++) {
        const spec = byShort.get(a[j]);
        if (!spec) throw unknown(`-${a[j]}`);
        if (spec.kind === 'bool') {
          set(spec, true);
          continue;
        }
        let v = a.slice(j + 1);
        if (v.startsWith('=')) v = v.slice(1);
        if (!v) v = argv[++i];
        if (v === undefined) throw invalidArgument(`flag needs an argument: '${a[j]}' in -${a[j]}`, `see 'silo ${opts.command} --help'`);
        set(spec, v);
        break;
      }
      continue;
    }
    args.push(a);
    if (opts.stopAtPositional) {
      args.push(...argv.slice(i + 1));
      break;
    }
  }
  return { flags, args };
}

export function helpText(command: string, usage: string, description: string, specs: FlagSpec[]): string {
  const lines = [`Usage:  silo ${command} ${usage}`, '', description];
  if (specs.length) {
    lines.push('', 'Options:');
    const left = specs.map((s) => `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.kind !== 'bool' ? ' ' + (s.value ?? (s.kind === 'list' ? 'list' : 'string')) : ''}`);
    const width = Math.max(...left.map((l) => l.length)) + 3;
    specs.forEach((s, i) => lines.push(`  ${left[i].padEnd(width)}${s.help}`));
  }
  return lines.join('\n') + '\n';
}

export const str = (p: Parsed, name: string) => p.flags[name] as string | undefined;
export const bool = (p: Parsed, name: string) => p.flags[name] === true;
export const list = (p: Parsed, name: string) => (p.flags[name] as string[] | undefined) ?? [];
