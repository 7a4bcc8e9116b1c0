// Docker's `filters` query parameter: JSON of {"name": ["value", ...]} (or the legacy
// {"name": {"value": true}}), as moby api/types/filters parses it.
import { invalidArgument } from '../errors';
import { checkFilterName, type Filters } from '../service/filters';


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
    checkFilterName(k, allowed);
    const values = Array.isArray(v) ? v.map(String) : v && typeof v === 'object' ? Object.keys(v) : [String(v)];
    out.set(k, values);
  }
  return out;
}
