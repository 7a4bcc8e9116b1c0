// Atomic file replacement: write a temp file in the same directory, fsync it, rename it over the
// target, fsync the directory. A crash at any instant leaves either the old file or the new one
// (rename(2) is atomic within one filesystem; the directory fsync makes the rename durable).
import { randomBytes } from 'node:crypto';
import * as fsSync from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Prefix of the temp files writeFileAtomic leaves behind if the process dies mid-write. */
export const TEMP_PREFIX = '.tmp-';

/** The temp file name for `target`: hidden, and carrying the writer's pid so a reader can tell whether it is stale. */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}-${path.basename(target)}`);
}

/** The writer's pid of a temp file name made by tempPathFor, or undefined for any other name. */
export function tempOwnerPid(name: string): number | undefined {
  const m = /^\.tmp-(\d+)-[0-9a-f]{12}-/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** True for a temp file of writeFileAtomic whose writer is gone (a crash mid-write): safe to delete. */
export function isStaleTemp(name: string): boolean {
  if (!name.startsWith(TEMP_PREFIX)) return false;
  const pid = tempOwnerPid(name);
  return pid === undefined || (pid !== process.pid && !processExists(pid));
}

/** Deletes the stale temp files and directories in `dir` (isStaleTemp): what crashed writers left. */
export async function removeStaleTemps(dir: string): Promise<void> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) if (isStaleTemp(name)) await fs.rm(path.join(dir, name), { recursive: true, force: true }).catch(() => undefined);
}

/** Makes a rename or unlink in `dir` durable. Windows cannot open a directory for fsync; NTFS journals renames. */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const h = await fs.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Replaces `target` with `data` so that readers see the old content or the new, never a part. */
export async function writeFileAtomic(target: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = tempPathFor(target);
  const h = await fs.open(tmp, 'wx', mode);
  try {
    try {
      await h.writeFile(data);
      await h.sync();
    } finally {
      await h.close();
    }
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(target));
}

/** fsyncDir, synchronously (for code that works synchronously, such as the snapshotters). */
export function fsyncDirSync(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = fsSync.openSync(dir, 'r');
  try {
    fsSync.fsyncSync(fd);
  } finally {
    fsSync.closeSync(fd);
  }
}

/** writeFileAtomic, synchronously. */
export function writeFileAtomicSync(target: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = tempPathFor(target);
  try {
    const fd = fsSync.openSync(tmp, 'wx', mode);
    try {
      fsSync.writeFileSync(fd, data);
      fsSync.fsyncSync(fd);
    } finally {
      fsSync.closeSync(fd);
    }
    fsSync.renameSync(tmp, target);
  } catch (err) {
    fsSync.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirSync(path.dirname(target));
}

/** True when a process with this pid exists (EPERM means it exists but is not ours). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
