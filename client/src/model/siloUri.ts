// The read-only `silo:` file system's addresses, as plain strings (no vscode import):
//   silo://container/<id>/<path>        the container's merged view (what a process inside sees)
//   silo://image/<id>/<path>            the same path in the container's image (its layers without the writes)
//   silo://layer/<image id>/<n>/<path>  the path as layer n (0: the base) of an image holds it
// The authority names the view; the first segment is the container or image ID.
export type FileView = 'container' | 'image';

export interface SiloFileAddress {
  view: FileView;
  containerId: string;
  /** Absolute POSIX path inside the container. */
  path: string;
}

export interface LayerFileAddress {
  view: 'layer';
  /** The image ID without `sha256:` (a name may hold '/' and ':'; the ID never changes under the view). */
  imageId: string;
  index: number;
  /** Absolute POSIX path inside the layer. */
  path: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const absolute = (p: string) => (p.startsWith('/') ? p : `/${p}`);

export function formatSiloPath(a: SiloFileAddress): string {
  return `/${a.containerId}${absolute(a.path)}`;
}

export function formatLayerPath(a: Omit<LayerFileAddress, 'view'>): string {
  return `/${a.imageId.replace(/^sha256:/, '')}/${a.index}${absolute(a.path)}`;
}

/** Parses a `silo:` URI's authority and path; undefined when it is not one of ours. */
export function parseSiloAddress(authority: string, uriPath: string): SiloFileAddress | LayerFileAddress | undefined {
  if (authority === 'layer') {
    const l = /^\/([^/]+)\/(\d+)(\/.*)?$/.exec(uriPath);
    if (!l || !ID.test(l[1])) return undefined;
    return { view: 'layer', imageId: l[1], index: Number(l[2]), path: l[3] ?? '/' };
  }
  if (authority !== 'container' && authority !== 'image') return undefined;
  const m = /^\/([^/]+)(\/.*)?$/.exec(uriPath);
  if (!m || !ID.test(m[1])) return undefined;
  return { view: authority, containerId: m[1], path: m[2] ?? '/' };
}
