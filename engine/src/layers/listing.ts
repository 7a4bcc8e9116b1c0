// What one layer holds, read from its tar without unpacking it (the editor's Layers view): a capped
// listing of its entries, and one file's bytes. Whiteouts are shown as what they mean, deletions
// (OCI image-spec layer.md "Whiteouts"). Nothing is written: the tar is streamed and entries drained.
import type { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { failedPrecondition, notFound } from '../errors';
import type { HistoryEntry } from '../image/types';
import { relativeInRoot, type LayeredFile } from './readFile';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './special';

export interface LayerEntry {
  /** Absolute, e.g. '/bin/busybox'; for a whiteout the path it deletes. */
  path: string;
  kind: 'file' | 'dir' | 'symlink' | 'whiteout' | 'other';
  size: number;
  /** Symlink text, or the path a hard link shares its bytes with. */
  target?: string;
  /** An opaque whiteout: the directory's lower contents are hidden, not the directory itself. */
  opaque?: boolean;
}

export interface LayerListing {
  entries: LayerEntry[];
  /** Entries past the limit, counted but not returned. */
  more: number;
}

/** '/bin/busybox' from './bin/busybox', 'bin/busybox' or 'bin/'; names are shown, never used as host paths. */
function absoluteName(name: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  return `/${parts.join('/')}`;
}

function entryOf(h: tarStream.Header): LayerEntry {
  const p = absoluteName(h.name);
  const slash = p.lastIndexOf('/');
  const dir = p.slice(0, slash) || '/';
  const base = p.slice(slash + 1);
  if (base === OPAQUE_WHITEOUT) return { path: dir, kind: 'whiteout', size: 0, opaque: true };
  if (base.startsWith(WHITEOUT_PREFIX)) return { path: `${dir === '/' ? '' : dir}/${base.slice(WHITEOUT_PREFIX.length)}`, kind: 'whiteout', size: 0 };
  switch (h.type) {
    case 'file':
    case 'contiguous-file':
      return { path: p, kind: 'file', size: h.size ?? 0 };
    case 'link':
      return { path: p, kind: 'file', size: 0, target: absoluteName(h.linkname ?? '') };
    case 'directory':
      return { path: p, kind: 'dir', size: 0 };
    case 'symlink':
      return { path: p, kind: 'symlink', size: 0, target: h.linkname ?? '' };
    default:
      return { path: p, kind: 'other', size: 0 };
  }
}

/** Visits each entry of `tar` in order; `onEntry` may consume the body (else it is drained) and return false to stop. */
async function walk(tar: Readable, onEntry: (h: tarStream.Header, body: Readable) => Promise<boolean | void> | boolean | void): Promise<void> {
  const ex = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('close', resolve);
    ex.on('error', reject);
    tar.on('error', reject);
  });
  ex.on('entry', (h, body, next) => {
    Promise.resolve(onEntry(h, body as unknown as Readable))
      .then((go) => {
        if (go === false) {
          tar.destroy();
          ex.destroy();
          return;
        }
        body.on('end', () => next());
        body.resume();
      })
      .catch((err: unknown) => ex.destroy(err as Error));
  });
  tar.pipe(ex);
  await done;
}

/** The layer's entries in tar order, at most `limit` of them; the rest are counted in `more`. */
export async function listLayer(tar: Readable, limit = 20_000): Promise<LayerListing> {
  const entries: LayerEntry[] = [];
  let more = 0;
  await walk(tar, (h) => {
    if (entries.length < limit) entries.push(entryOf(h));
    else more++;
  });
  return { entries, more };
}

/**
 * One path of the layer as the layer itself holds it. A hard link's bytes are those of its target,
 * which comes earlier in the same tar (POSIX ustar), so `open` is called a second time for it.
 */
export async function readLayerFile(open: () => Promise<Readable>, p: string, maxBytes = 50 * 1024 * 1024, linkHops = 0): Promise<LayeredFile> {
  const want = `/${relativeInRoot(p)}`;
  let found: LayeredFile | undefined;
  let linkTo: string | undefined;
  await walk(await open(), async (h, body) => {
    const e = entryOf(h);
    if (e.path !== want || e.kind === 'whiteout') return true;
    const mtime = h.mtime ? h.mtime.getTime() : 0;
    if (e.kind === 'file' && e.target) linkTo = e.target;
    else if (e.kind === 'file') {
      if (e.size > maxBytes) throw failedPrecondition(`${p} is ${e.size} bytes, more than the ${maxBytes} the editor reads`, 'copy it out with `silo cp` from a container instead');
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c as Buffer);
      found = { type: 'file', size: e.size, mtime, data: Buffer.concat(chunks) };
    } else if (e.kind === 'symlink') found = { type: 'symlink', size: 0, mtime, target: e.target };
    else found = { type: e.kind === 'dir' ? 'directory' : 'other', size: 0, mtime };
    return false;
  });
  if (linkTo !== undefined) {
    // A well-formed tar links to an earlier regular file; a crafted one could link in a circle.
    if (linkHops >= 8) throw failedPrecondition(`the hard link ${p} in this layer leads in a circle`, 'the layer tar is malformed; rebuild the image');
    return readLayerFile(open, linkTo, maxBytes, linkHops + 1);
  }
  if (!found) throw notFound(`no file ${p} in this layer`, 'the Layers view lists the files each layer adds');
  return found;
}

/**
 * For each row of `docker history` (newest first, as ImageService.history answers), the index of the
 * layer it added, or null for a metadata-only step (`empty_layer`). Without a recorded history every
 * layer is one row, as ImageService.history does.
 */
export function historyLayerIndexes(history: HistoryEntry[] | undefined, layerCount: number): Array<number | null> {
  const entries = history?.length ? history : Array.from({ length: layerCount }, (): HistoryEntry => ({}));
  let layer = 0;
  const out = entries.map((h) => (h.empty_layer || layer >= layerCount ? null : layer++));
  return out.reverse();
}
