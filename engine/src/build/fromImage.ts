// COPY --from=<stage|image>: the selected paths read out of the source image's layer tars, bottom
// layer first so upper layers win and whiteouts remove, without mounting anything.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import * as tarStream from 'tar-stream';
import { notFound, SiloError } from '../errors';
import type { LayerRecord } from '../image/store';
import { openLayerTar } from '../image/unpack';
import type { ContentStore } from '../store/content';
import type { LayerItem } from './copyLayer';
import { hasWildcards, segmentMatcher } from './context';

interface Held { type: 'file' | 'directory' | 'symlink'; mode: number; mtime: Date; linkname?: string; body?: Buffer }

const MAX_TOTAL = 512 * 1024 * 1024;

function matches(pattern: string, name: string): boolean {
  const ps = pattern.split('/').filter(Boolean);
  const ns = name.split('/');
  if (ns.length < ps.length) return false;
  return ps.every((p, i) => (hasWildcards(p) ? segmentMatcher(p).test(ns[i]) : p === ns[i]));
}

export async function readFromImage(content: ContentStore, layers: readonly LayerRecord[], sources: string[], signal: AbortSignal) {
  const files = new Map<string, Held>();
  let total = 0;
  const pats = sources.map((s) => s.replace(/^\/+/, '').replace(/\/+$/, ''));
  for (const l of layers) {
    const tar = await openLayerTar(content, l.blob);
    await new Promise<void>((resolve, reject) => {
      const ex = tarStream.extract();
      ex.on('entry', (h, stream, next) => {
        const name = h.name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
        const base = path.posix.basename(name);
        const wanted = pats.some((p) => matches(p, name) || matches(p, path.posix.join(path.posix.dirname(name), base.replace(/^\.wh\./, ''))));
        const done = () => next();
        if (!wanted) {
          stream.on('end', done);
          stream.resume();
          return;
        }
        if (base.startsWith('.wh.')) {
          const gone = path.posix.join(path.posix.dirname(name), base.slice(4));
          for (const k of [...files.keys()]) if (k === gone || k.startsWith(gone + '/')) files.delete(k);
          stream.on('end', done);
          stream.resume();
          return;
        }
        const type = h.type === 'directory' ? 'directory' : h.type === 'symlink' ? 'symlink' : h.type === 'file' || h.type === 'contiguous-file' ? 'file' : undefined;
        if (!type) {
          stream.on('end', done);
          stream.resume();
          return;
        }
        const chunks: Buffer[] = [];
        stream.on('data', (c: unknown) => {
          total += (c as Buffer).length;
          chunks.push(c as Buffer);
        });
        stream.on('end', () => {
          if (total > MAX_TOTAL) return reject(new SiloError('Unavailable', 'COPY --from: the selected files exceed 512 MiB'));
          files.set(name, { type, mode: (h.mode ?? 0o644) & 0o7777, mtime: h.mtime ?? new Date(0), linkname: h.linkname ?? undefined, body: type === 'file' ? Buffer.concat(chunks) : undefined });
          next();
        });
      });
      ex.on('finish', resolve);
      ex.on('error', reject);
      tar.on('error', reject);
      signal.addEventListener('abort', () => tar.destroy(new SiloError('Canceled', 'the build was canceled')), { once: true });
      tar.pipe(ex);
    });
  }
  const out: Array<{ isDir: boolean; items: LayerItem[] }> = [];
  const hashes: Record<string, string> = {};
  const all = createHash('sha256');
  for (const p of pats) {
    const roots = [...files.keys()].filter((k) => matches(p, k) && k.split('/').length === p.split('/').filter(Boolean).length).sort();
    if (!roots.length) throw notFound(`COPY --from: ${p} not found in the source image`, 'check the path in the stage or image you copy from');
    for (const r of roots) {
      const held = files.get(r)!;
      const isDir = held.type === 'directory';
      const items: LayerItem[] = [];
      const keys = isDir ? [...files.keys()].filter((k) => k.startsWith(r + '/')).sort() : [r];
      for (const k of keys) {
        const f = files.get(k)!;
        const dest = isDir ? k.slice(r.length + 1) : path.posix.basename(k);
        const h = createHash('sha256').update(`${f.type}\0${f.mode.toString(8)}\0${f.linkname ?? ''}\0`).update(f.body ?? Buffer.alloc(0)).digest('hex');
        hashes[`${k}`] = h;
        all.update(`${k}\0${h}\0`);
        items.push(
          f.type === 'file'
            ? { dest, kind: 'bytes', bytes: f.body, mode: f.mode, mtime: f.mtime }
            : f.type === 'symlink'
              ? { dest, kind: 'symlink', entry: { rel: k, abs: '', target: dest, stat: undefined as never, linkname: f.linkname }, mtime: f.mtime }
              : { dest, kind: 'directory', mode: f.mode, mtime: f.mtime },
        );
      }
      out.push({ isDir, items });
    }
  }
  return { sources: out, hash: `sha256:${all.digest('hex')}`, files: hashes };
}
