// Cross-process exclusive locks on a lock file.
//
// Why flock(2): Node has no file-lock API, and a lock file created with O_EXCL needs stale-owner
// detection (pid + start time), which cannot be made race-free: two processes that both judge a lock
// stale can each remove it and each believe they hold the next one. flock(2) is released by the
// kernel when its holder dies (SIGKILL, crash, power loss does not matter: the lock is not on disk),
// so there is no stale state to judge. It is reached through koffi's libc binding. flock locks belong
// to an open file description, so two opens in one process exclude each other too.
//
// A holder may delete the lock file while it holds it (release({ remove: true })): a waiter that
// then gets the lock on the unlinked inode sees that the path no longer names its inode and retries.
//
// Windows has no flock: there the lock file is created with O_EXCL and holds the owner's pid; a lock
// whose owner is gone is removed. That fallback has the stale-owner race described above, in a window
// of microseconds; it is documented, not hidden.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import { unavailable } from '../errors';
import { processExists } from './atomic';

export interface HeldLock {
  readonly path: string;
  /** Unlocks; with remove, deletes the lock file first (while still holding it). Idempotent. */
  release(opts?: { remove?: boolean }): Promise<void>;
}

export interface LockOptions {
  /** How long to wait for a held lock before giving up with Unavailable. Default 60 s. */
  timeoutMs?: number;
  /** What the lock protects, for the error message ("the image store", "ingest ref X"). */
  what?: string;
}

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

type FlockFn = (fd: number, op: number) => number;
let flockFn: FlockFn | undefined;

function libcFlock(): FlockFn {
  if (flockFn) return flockFn;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as typeof import('koffi');
  const libName = process.platform === 'darwin' ? 'libSystem.B.dylib' : process.platform === 'linux' ? 'libc.so.6' : 'libc.so.7';
  const lib = koffi.load(libName);
  const fn = lib.func('int flock(int fd, int operation)') as (fd: number, op: number) => number;
  flockFn = (fd, op) => {
    for (;;) {
      const rc = fn(fd, op);
      if (rc === 0) return 0;
      const e = koffi.errno();
      if (e === os.constants.errno.EINTR) continue;
      return e;
    }
  };
  return flockFn;
}

function isWouldBlock(errno: number): boolean {
  return errno === os.constants.errno.EWOULDBLOCK || errno === os.constants.errno.EAGAIN;
}

/** Takes the lock if it is free; undefined when another holder has it. */
export async function tryLock(path: string): Promise<HeldLock | undefined> {
  return process.platform === 'win32' ? tryLockExclusiveFile(path) : tryFlock(path);
}

async function tryFlock(path: string): Promise<HeldLock | undefined> {
  const flock = libcFlock();
  for (;;) {
    const h = await fs.open(path, 'a+', 0o600);
    const e = flock(h.fd, LOCK_EX | LOCK_NB);
    if (e !== 0) {
      await h.close();
      if (isWouldBlock(e)) return undefined;
      throw unavailable(`cannot lock ${path}: flock failed with errno ${e}`);
    }
    // The previous holder may have removed the file between our open and our flock.
    const [held, named] = await Promise.all([h.stat(), fs.stat(path).catch(() => undefined)]);
    if (!named || named.ino !== held.ino || named.dev !== held.dev) {
      await h.close();
      continue;
    }
    await h.truncate(0);
    await h.write(`${process.pid}\n`, 0);
    let released = false;
    return {
      path,
      async release(opts) {
        if (released) return;
        released = true;
        if (opts?.remove) await fs.rm(path, { force: true });
        flock(h.fd, LOCK_UN);
        await h.close();
      },
    };
  }
}

async function tryLockExclusiveFile(path: string): Promise<HeldLock | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const h = await fs.open(path, 'wx', 0o600);
      await h.write(`${process.pid}\n`);
      await h.close();
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          await fs.rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await fs.readFile(path, 'utf8').catch(() => '')).trim());
      if (!owner || processExists(owner)) return undefined;
      await fs.rm(path, { force: true });
    }
  }
  return undefined;
}

/** The pid written into a lock file by its holder, for messages. */
export async function lockHolder(path: string): Promise<number | undefined> {
  const n = Number((await fs.readFile(path, 'utf8').catch(() => '')).trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * Waits for the lock, polling with randomised back-off from 16 ms doubling to 2048 ms
 * (containerd core/content/helpers.go OpenWriter), and gives up with Unavailable after the timeout.
 */
export async function lock(path: string, opts: LockOptions = {}): Promise<HeldLock> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let wait = 16;
  for (;;) {
    const held = await tryLock(path);
    if (held) return held;
    if (Date.now() >= deadline) {
      const pid = await lockHolder(path);
      throw unavailable(
        `${opts.what ?? path} is locked${pid ? ` by process ${pid}` : ''}`,
        'wait for the other silo operation to finish, then retry',
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(wait / 2 + Math.random() * wait, Math.max(1, deadline - Date.now()))));
    wait = Math.min(wait * 2, 2048);
  }
}

/** Runs fn while holding the lock file `path`; the lock is released however fn ends. */
export async function withLock<T>(path: string, fn: () => Promise<T>, opts?: LockOptions): Promise<T> {
  const held = await lock(path, opts);
  try {
    return await fn();
  } finally {
    await held.release();
  }
}
