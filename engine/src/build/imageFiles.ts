// Reads one path of an image from its layer tars, top layer first, without mounting anything: what
// COPY needs to know (is the destination an existing directory?) and what `--chown=name` needs
// (/etc/passwd, /etc/group). Whiteouts of the path itself hide it.
import * as path from 'node:path';
import * as tarStream from 'tar-stream';
import type { LayerRecord } from '../image/store';
import { openLayerTar } from '../image/unpack';
import type { ContentStore } from '../store/content';

export interface ImagePath {
  type: 'file' | 'directory' | 'symlink' | 'other';
  content?: Buffer;
}

const MAX_CONTENT = 4 * 1024 * 1024;

export async function readImagePath(content: ContentStore, layers: readonly LayerRecord[], p: string, wantContent = false): Promise<ImagePath | undefined> {
  const want = p.replace(/^\/+/, '').replace(/\/+$/, '');
  const whiteout = path.posix.join(path.posix.dirname(want), `.wh.${path.posix.basename(want)}`);
  for (let i = layers.length - 1; i >= 0; i--) {
    const tar = await openLayerTar(content, layers[i].blob);
    const found = await new Promise<ImagePath | 'gone' | undefined>((resolve, reject) => {
      const ex = tarStream.extract();
      let result: ImagePath | 'gone' | undefined;
      ex.on('entry', (h, stream, next) => {
        const name = h.name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
        if (result === undefined && name === whiteout) result = 'gone';
        if (result === undefined && name === want) {
          const type = h.type === 'file' || h.type === 'contiguous-file' ? 'file' : h.type === 'directory' ? 'directory' : h.type === 'symlink' ? 'symlink' : 'other';
          if (type === 'file' && wantContent && (h.size ?? 0) <= MAX_CONTENT) {
            const chunks: Buffer[] = [];
            stream.on('data', (c: unknown) => chunks.push(c as Buffer));
            stream.on('end', () => {
              result = { type, content: Buffer.concat(chunks) };
              next();
            });
            return;
          }
          result = { type };
        }
        stream.on('end', () => next());
        stream.resume();
      });
      ex.on('finish', () => resolve(result));
      ex.on('error', reject);
      tar.on('error', reject);
      tar.pipe(ex);
    });
    if (found === 'gone') return undefined;
    if (found) return found;
  }
  return undefined;
}

/**
 * `--chown=user:group` to numbers, names looked up in the image's /etc/passwd and /etc/group. A user
 * alone stands for the group too, by the same name or number (moby builder/dockerfile
 * internals_linux.go parseChownFlag: "if no group specified, use the user spec as group as well").
 */
export async function resolveChown(content: ContentStore, layers: readonly LayerRecord[], spec: string): Promise<{ uid: number; gid: number }> {
  const [u, g = u] = spec.split(':');
  const lookup = async (file: string, name: string, field: number): Promise<number | undefined> => {
    if (/^\d+$/.test(name)) return Number(name);
    const f = await readImagePath(content, layers, file, true);
    const line = f?.content?.toString('utf8').split('\n').find((l) => l.split(':')[0] === name);
    return line ? Number(line.split(':')[field]) : undefined;
  };
  const uid = await lookup('etc/passwd', u, 2);
  if (uid === undefined) throw new Error(`unable to find user ${u}: no matching entries in passwd file`);
  const gid = await lookup('etc/group', g, 2);
  if (gid === undefined) throw new Error(`unable to find group ${g}: no matching entries in group file${spec.includes(':') ? '' : ` (a user alone names the group too; write --chown=${u}:<group>)`}`);
  return { uid, gid };
}

export interface ImagePathStat {
  type: 'file' | 'directory' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  mtime?: Date;
}

/**
 * The metadata of several paths of an image in one pass over its layers, top layer first, stopping
 * once every path is settled; whiteouts (of a path, a parent, or an opaque directory) hide it.
 */
export async function statImagePaths(content: ContentStore, layers: readonly LayerRecord[], paths: readonly string[]): Promise<Map<string, ImagePathStat | undefined>> {
  const norm = (p: string) => p.replace(/^\/+/, '').replace(/\/+$/, '');
  const wanted = new Map(paths.map((p) => [norm(p), p]));
  const out = new Map<string, ImagePathStat | undefined>();
  const settle = (rel: string, v: ImagePathStat | undefined) => {
    if (out.has(wanted.get(rel)!)) return;
    out.set(wanted.get(rel)!, v);
  };
  for (let i = layers.length - 1; i >= 0 && out.size < wanted.size; i--) {
    const tar = await openLayerTar(content, layers[i].blob);
    const hidden: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const ex = tarStream.extract();
      ex.on('entry', (h, stream, next) => {
        const name = h.name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
        const base = path.posix.basename(name);
        if (base === '.wh..wh..opq') hidden.push(`${path.posix.dirname(name)}/`);
        else if (base.startsWith('.wh.')) hidden.push(path.posix.join(path.posix.dirname(name), base.slice(4)));
        else if (wanted.has(name)) {
          const type = h.type === 'file' || h.type === 'contiguous-file' ? 'file' : h.type === 'directory' ? 'directory' : h.type === 'symlink' ? 'symlink' : 'other';
          settle(name, { type, mode: (h.mode ?? 0) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, mtime: h.mtime });
        }
        stream.on('end', () => next());
        stream.resume();
      });
      ex.on('finish', () => resolve());
      ex.on('error', reject);
      tar.on('error', reject);
      tar.pipe(ex);
    });
    // What this layer hides in the layers below it.
    for (const rel of wanted.keys()) {
      if (hidden.some((h) => (h.endsWith('/') ? rel.startsWith(h) : rel === h || rel.startsWith(`${h}/`)))) settle(rel, undefined);
    }
  }
  for (const p of paths) if (!out.has(p)) out.set(p, undefined);
  return out;
}
