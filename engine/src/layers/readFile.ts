// Reading one file of a layered root filesystem without mounting it: the editor's read-only view of a
// container's merged tree and of its image (the diff editor's two sides). The path is resolved
// inside the layer dirs only: '..' is refused, and no symlink is followed on the way (an ancestor that
// is a symlink hides the path, as it would in a layer tar), so nothing outside the layers is read.
import { constants, promises as fs } from 'node:fs';
import { failedPrecondition, invalidArgument, notFound } from '../errors';
import { lookupInLayers } from './changes';
import type { SpecialFiles } from './special';

export interface LayeredFile {
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  /** Milliseconds since the epoch. */
  mtime: number;
  /** The bytes, for a regular file. */
  data?: Buffer;
  /** The link text, for a symlink (not followed). */
  target?: string;
}

/** 'etc/hosts' from '/etc/hosts'; throws InvalidArgument on '..' or a NUL. */
export function relativeInRoot(p: string): string {
  if (p.includes('\0')) throw invalidArgument('the path contains a NUL character');
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw invalidArgument(`the path ${JSON.stringify(p)} leaves the container's root`, 'use an absolute path inside the container');
    parts.push(part);
  }
  return parts.join('/');
}

/** Reads `p` from `dirs` merged top first; a regular file's bytes only up to `maxBytes`. */
export async function readLayeredFile(dirs: string[], special: SpecialFiles, p: string, maxBytes = 50 * 1024 * 1024): Promise<LayeredFile> {
  const rel = relativeInRoot(p);
  if (rel === '') return { type: 'directory', size: 0, mtime: 0 };
  const found = lookupInLayers(dirs, special, rel);
  if (!found) throw notFound(`no file ${p} in this file system`);
  const full = `${found.dir}/${rel}`;
  const { st } = found;
  const base = { size: st.size, mtime: st.mtimeMs };
  if (st.isSymbolicLink()) return { type: 'symlink', ...base, target: await fs.readlink(full) };
  if (st.isDirectory()) return { type: 'directory', ...base };
  if (!st.isFile()) return { type: 'other', ...base };
  if (st.size > maxBytes) throw failedPrecondition(`${p} is ${st.size} bytes, more than the ${maxBytes} the editor reads`, 'copy it out with `silo cp` instead');
  // O_NOFOLLOW: the entry was a regular file at lookup; refuse it if it became a symlink since.
  const fh = await fs.open(full, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return { type: 'file', ...base, data: await fh.readFile() };
  } finally {
    await fh.close();
  }
}
