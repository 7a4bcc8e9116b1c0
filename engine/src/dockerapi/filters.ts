// Docker's `filters` query parameter: JSON of {"name": ["value", ...]} (or the legacy
// {"name": {"value": true}}), as moby api/types/filters parses it.
import { invalidArgument } from '../errors';

export type Filters = Map<string, string[]>;

export function parseFilters(raw: string | null, allowed: readonly string[]): Filters {
  const out: Filters = new Map();
  if (!raw) return out;
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch {
    throw invalidArgument(`invalid filters: ${raw} is not JSON`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw invalidArgument('invalid filters: expected an object of name -> values');
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    if (!allowed.includes(k)) throw invalidArgument(`invalid filter '${k}'`, `Silo supports: ${allowed.join(', ')}`);
    const values = Array.isArray(v) ? v.map(String) : v && typeof v === 'object' ? Object.keys(v) : [String(v)];
    out.set(k, values);
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
