// Docker's list filters, once parsed: name -> values, matched as moby matches them (OR within a name, AND
// across names; labels AND together). The Docker API reads them from its `filters` query (dockerapi/
// filters.ts), the CLI from repeated `--filter name=value` flags (parseFilterFlags).
import { invalidArgument } from '../errors';

export type Filters = Map<string, string[]>;

/** Refuses a filter Silo does not answer, naming those it does. */
export function checkFilterName(name: string, allowed: readonly string[]): void {
  if (!allowed.includes(name)) throw invalidArgument(`invalid filter '${name}'`, `Silo supports: ${allowed.join(', ')}`);
}

/** `--filter name=value` flags, as the docker CLI reads them. */
export function parseFilterFlags(flags: string[], allowed: readonly string[]): Filters {
  const out: Filters = new Map();
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw invalidArgument(`bad format of filter (expected name=value): ${f}`);
    const name = f.slice(0, eq).trim().toLowerCase();
    checkFilterName(name, allowed);
    out.set(name, [...(out.get(name) ?? []), f.slice(eq + 1)]);
  }
  return out;
}

/** `label=key` or `label=key=value` against a label map. */
export function labelMatches(labels: Record<string, string> | undefined, want: string): boolean {
  const eq = want.indexOf('=');
  const l = labels ?? {};
  if (eq === -1) return want in l;
  return l[want.slice(0, eq)] === want.slice(eq + 1);
}

/** Every filter name must have at least one value that `test` accepts (Docker: OR within a name, AND across). */
export function matchAll(filters: Filters, test: (name: string, value: string) => boolean): boolean {
  for (const [name, values] of filters) {
    if (name === 'label') {
      if (!values.every((v) => test(name, v))) return false; // labels AND together, as Docker's do
    } else if (!values.some((v) => test(name, v))) return false;
  }
  return true;
}

/** The filters `images` takes. */
export const IMAGE_FILTERS = ['dangling', 'label', 'reference'] as const;

/** Docker's `reference` filter: a path.Match glob over "repo:tag", or over the repository alone. */
export function refMatches(pattern: string, tag: string): boolean {
  return globMatch(pattern, tag) || globMatch(pattern, tag.slice(0, tag.lastIndexOf(':')));
}

/** Docker's reference filter is a path.Match glob. */
function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
  return re.test(s);
}
