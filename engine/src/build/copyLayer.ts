// The layer of a COPY or ADD step, written straight from the selected files into a tar (no
// container): file modes and mtimes kept, owner 0:0 unless --chown, --chmod applied to files and
// directories (Linux images). ADD of a local tar archive unpacks its entries under the destination.
import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tarStream from 'tar-stream';
import { invalidArgument } from '../errors';
import { decompressStream } from '../layers/compression';
import { entryPath } from '../layers/extract';
import type { ContextEntry } from './context';

export interface LayerItem {
  /** Absolute path in the image. */
  dest: string;
  kind: 'file' | 'directory' | 'symlink' | 'archive' | 'bytes';
  entry?: ContextEntry;
  bytes?: Buffer;
  mode?: number;
  mtime?: Date;
  /** A directory made to hold the copy (a missing parent): 0755, --chmod does not apply. */
  created?: boolean;
  /** An existing parent, recorded as the image has it (owner and mode kept, --chown/--chmod do not apply). */
  kept?: { uid: number; gid: number; mode: number };
}

export interface OwnerMode {
  uid: number;
  gid: number;
  /** --chmod: replaces the permission bits. */
  chmod?: number;
}

function tarName(dest: string): string {
  return entryPath(dest.replace(/^\/+/, ''));
}

/** Writes the items as one uncompressed layer tar. */
export function writeCopyLayer(items: LayerItem[], own: OwnerMode): Readable {
  const pack = tarStream.pack();
  const out = new PassThrough();
  const put = (h: Partial<tarStream.Header> & { name: string }, body?: Buffer) =>
    new Promise<void>((resolve, reject) => (body !== undefined ? pack.entry(h, body, (e) => (e ? reject(e) : resolve())) : pack.entry(h, (e) => (e ? reject(e) : resolve()))));
  void (async () => {
    for (const it of items) {
      const name = tarName(it.dest);
      if (!name) continue;
      const st = it.entry?.stat;
      const base = { uid: it.kept?.uid ?? own.uid, gid: it.kept?.gid ?? own.gid, mtime: it.mtime ?? st?.mtime ?? new Date(0) };
      const perm = own.chmod ?? (it.mode ?? (st ? st.mode & 0o7777 : 0o644));
      if (it.kind === 'directory') await put({ ...base, name, type: 'directory', mode: it.kept ? it.kept.mode : it.created ? 0o755 : own.chmod ?? it.mode ?? (st ? st.mode & 0o7777 : 0o755) });
      else if (it.kind === 'symlink') await put({ ...base, name, type: 'symlink', linkname: it.entry!.linkname!, mode: 0o777 });
      else if (it.kind === 'bytes') await put({ ...base, name, type: 'file', mode: perm, size: it.bytes!.length }, it.bytes!);
      else if (it.kind === 'file') {
        const size = st!.size;
        const w = pack.entry({ ...base, name, type: 'file', mode: perm, size });
        await pipeline(createReadStream(it.entry!.abs), w);
      } else if (it.kind === 'archive') await copyArchive(it.entry!.abs, name, pack);
    }
    pack.finalize();
  })().catch((err: Error) => out.destroy(err));
  pack.pipe(out);
  return out;
}

/** ADD of a local archive: its entries re-rooted under the destination, each name checked. */
async function copyArchive(file: string, destName: string, pack: tarStream.Pack): Promise<void> {
  const ex = tarStream.extract();
  const input = await decompressStream(createReadStream(file));
  await new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      let rel: string;
      try {
        rel = entryPath(h.name);
      } catch (err) {
        reject(err);
        return;
      }
      if (!rel) {
        stream.resume();
        stream.on('end', () => next());
        return;
      }
      const header: Partial<tarStream.Header> & { name: string } = { ...h, name: `${destName}/${rel}` };
      if (h.type === 'link' && h.linkname) header.linkname = `${destName}/${entryPath(h.linkname)}`;
      const w = pack.entry(header, (e) => (e ? reject(e) : undefined));
      stream.pipe(w);
      w.on('finish', () => next());
      w.on('error', reject);
    });
    ex.on('finish', resolve);
    ex.on('error', (e) => reject(invalidArgument(`ADD: cannot read the archive ${path.basename(file)}: ${e.message}`)));
    input.on('error', reject);
    input.pipe(ex);
  });
}

/** Whether a local file is a tar archive ADD unpacks (plain, gzip, bzip2, xz: moby's DetectCompression + tar check). */
export async function isArchive(file: string): Promise<boolean> {
  try {
    const input = await decompressStream(createReadStream(file, { end: 1024 * 1024 }));
    const head = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      let n = 0;
      input.on('data', (c: Buffer) => {
        chunks.push(c);
        n += c.length;
        if (n >= 512) {
          input.destroy();
          resolve(Buffer.concat(chunks));
        }
      });
      input.on('end', () => resolve(Buffer.concat(chunks)));
      input.on('error', () => resolve(Buffer.concat(chunks)));
    });
    return head.length >= 512 && head.subarray(257, 262).toString('latin1') === 'ustar';
  } catch {
    return false;
  }
}
