// koffi bindings to the few libc calls Node lacks: mknod(2), the l*xattr(2) family and syncfs(2). One
// file per library (the hcsshim pattern); loaded on first use so that importing this module costs
// nothing and a missing export becomes an error, not a crash.
import koffi from 'koffi';
import { closeSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import type { SpecialFiles } from '../../layers/special';
import { unavailable } from '../../errors';

interface Libc {
  mknod: (path: string, mode: number, dev: bigint) => number;
  lsetxattr: (path: string, name: string, value: Buffer, size: number, flags: number) => number;
  lgetxattr: (path: string, name: string, value: Buffer | null, size: number) => number;
  llistxattr: (path: string, list: Buffer | null, size: number) => number;
  malloc_trim: (pad: number) => number;
  syncfs: (fd: number) => number;
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  try {
    const lib = koffi.load('libc.so.6');
    libc = {
      // glibc >= 2.33 exports mknod itself (before, only __xmknod). mode_t is 32-bit, dev_t 64-bit on Linux.
      mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
      lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
      lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
      llistxattr: lib.func('intptr_t llistxattr(const char *path, _Out_ char *list, size_t size)'),
      malloc_trim: lib.func('int malloc_trim(size_t pad)'),
      syncfs: lib.func('int syncfs(int fd)'),
    };
    return libc;
  } catch (err) {
    throw unavailable(`cannot bind mknod and xattr calls in libc.so.6 (${(err as Error).message})`,
      'Silo needs glibc 2.33 or newer on Linux');
  }
}

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

function fail(op: string, path: string): never {
  const n = koffi.errno();
  const code = errnoNames.get(n) ?? `E${n}`;
  const err = new Error(`${code}: ${op} '${path}'`) as NodeJS.ErrnoException;
  err.code = code;
  err.errno = -n;
  err.syscall = op;
  err.path = path;
  throw err;
}

/** glibc's gnu_dev_makedev (sys/sysmacros.h). */
function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0);
  const mi = BigInt(minor >>> 0);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

const absent = new Set(['ENODATA', 'ENOTSUP', 'EOPNOTSUPP']);

function getxattr(path: string, name: string): Buffer | undefined {
  const c = load();
  for (;;) {
    const size = c.lgetxattr(path, name, null, 0);
    if (size < 0) {
      try { fail('lgetxattr', path); } catch (err) {
        if (absent.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
        throw err;
      }
    }
    const buf = Buffer.alloc(size);
    if (size === 0) return buf;
    const got = c.lgetxattr(path, name, buf, size);
    if (got >= 0) return buf.subarray(0, got);
    if (koffi.errno() === constants.errno.ERANGE) continue; // grew between the two calls
    try { fail('lgetxattr', path); } catch (err) {
      if (absent.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
      throw err;
    }
  }
}

function listxattr(path: string): string[] {
  const c = load();
  for (;;) {
    const size = c.llistxattr(path, null, 0);
    if (size < 0) {
      try { fail('llistxattr', path); } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOTSUP' || (err as NodeJS.ErrnoException).code === 'EOPNOTSUPP') return [];
        throw err;
      }
    }
    if (size === 0) return [];
    const buf = Buffer.alloc(size);
    const got = c.llistxattr(path, buf, size);
    if (got < 0) {
      if (koffi.errno() === constants.errno.ERANGE) continue;
      fail('llistxattr', path);
    }
    // A sequence of NUL-terminated names.
    return buf.subarray(0, got).toString('utf8').split('\0').filter((s) => s.length > 0);
  }
}

/** The Linux implementation of layers/ SpecialFiles, over glibc. */
export const linuxSpecialFiles: SpecialFiles = {
  mknod(path, mode, major, minor) {
    if (load().mknod(path, mode >>> 0, makedev(major, minor)) !== 0) fail('mknod', path);
  },
  lsetxattr(path, name, value) {
    if (load().lsetxattr(path, name, value, value.length, 0) !== 0) fail('lsetxattr', path);
  },
  lgetxattr: getxattr,
  llistxattr: listxattr,
};

/**
 * Returns free heap pages to the system. glibc keeps freed native memory (zlib and stream buffers of a
 * finished import) mapped; an engine that idles most of its life should give it back.
 */
export function trimNativeHeap(): void {
  load().malloc_trim(0);
}

/**
 * syncfs(2): every write to the file system holding `path` reaches the disk, in one call, however many
 * files changed (what makes a tree of files durable without an fsync per file).
 */
export function syncFileSystem(path: string): void {
  const fd = openSync(path, 'r');
  try {
    if (load().syncfs(fd) !== 0) fail('syncfs', path);
  } finally {
    closeSync(fd);
  }
}
