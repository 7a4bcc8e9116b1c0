// The read-only `silo:` file system's addresses, as plain strings (no vscode import):
//   silo://container/<id>/<path>   the container's merged view (what a process inside sees)
//   silo://image/<id>/<path>       the same path in the container's image (its layers without the writes)
// The authority names the view; the first segment is the container ID.
export type FileView = 'container' | 'image';

export interface SiloFileAddress {
  view: FileView;
  containerId: string;
  /** Absolute POSIX path inside the container. */
  path: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function formatSiloPath(a: SiloFileAddress): string {
  const p = a.path.startsWith('/') ? a.path : `/${a.path}`;
  return `/${a.containerId}${p}`;
}

/** Parses a `silo:` URI's authority and path; undefined when it is not one of ours. */
export function parseSiloAddress(authority: string, uriPath: string): SiloFileAddress | undefined {
  if (authority !== 'container' && authority !== 'image') return undefined;
  const m = /^\/([^/]+)(\/.*)?$/.exec(uriPath);
  if (!m || !ID.test(m[1])) return undefined;
  return { view: authority, containerId: m[1], path: m[2] ?? '/' };
}
