// JSON from images and archives is attacker-influenced: cap its size and nesting before parsing
// (engine.md §4.3: "Cap manifest size (match ~4 MiB) and JSON depth"; containerd caps manifests at
// 4 MiB in core/remotes/docker/fetcher.go).
import { invalidArgument } from '../errors';

export const MAX_METADATA_BYTES = 4 * 1024 * 1024;
export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of objects and arrays, counted outside strings; stops early past `limit`. */
function depthOf(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * Parses JSON `what` (for the message: "manifest.json", "config sha256:..."), refusing more than
 * maxBytes, nesting deeper than maxDepth, and anything that is not a JSON object or array.
 */
export function parseBoundedJson<T>(data: Uint8Array | string, what: string, maxBytes = MAX_METADATA_BYTES, maxDepth = MAX_JSON_DEPTH): T {
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  if (size > maxBytes) throw invalidArgument(`${what} is ${size} bytes, more than the ${maxBytes} allowed`);
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  if (depthOf(text, maxDepth) > maxDepth) throw invalidArgument(`${what} nests deeper than ${maxDepth} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`${what} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null) throw invalidArgument(`${what} is not a JSON object or array`);
  return value as T;
}
