// Where an engine's endpoints are for a data root: shared by the engine and its clients, and small, so
// that the CLI bundle does not carry the engine.
//
// Linux: Unix sockets in the data root, owner-only. Windows: named pipes of Silo's own,
// `\\.\pipe\silo-<kind>-<16 hex of the data root>` — one per data root, never docker_engine. Node
// listens on them through libuv, which passes no security descriptor (libuv src/win/pipe.c), so
// Windows applies the default pipe DACL: full control for SYSTEM, Administrators and the creator
// owner, read-only for Everyone (Microsoft, "Named Pipe Security and Access Rights"); read access cannot
// send a request. We never pass readableAll/writableAll, which would let Everyone in. The first instance
// is created with FILE_FLAG_FIRST_PIPE_INSTANCE, so a pipe someone else made first is a listen error.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type * as net from 'node:net';
import * as path from 'node:path';
import { unavailable } from '../errors';

/** The named pipe of one of a data root's endpoints (engine, docker, hcs). */
export function rootPipe(kind: string, root: string): string {
  // Windows paths are case-insensitive: C:\ProgramData\silo and c:\programdata\silo are one root.
  const hash = createHash('sha256').update(path.win32.resolve(root).toLowerCase()).digest('hex').slice(0, 16);
  return `\\\\.\\pipe\\silo-${kind}-${hash}`;
}

/** True for `\\.\pipe\NAME` (either slash), the Windows named-pipe namespace. */
export function isPipeAddress(address: string): boolean {
  return /^[\\/]{2}\.[\\/]pipe[\\/]/i.test(address);
}

/** The engine protocol (JSON-RPC), owner-only. */
export function engineSocketPath(root: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? rootPipe('engine', root) : path.join(root, 'engine.sock');
}

/** Where the native `silo` front relays command lines into the engine (cli/relay.ts); Linux only. */
export function cliSocketPath(root: string): string {
  return path.join(root, 'cli.sock');
}

/**
 * Listens owner-only. A Unix socket is owner-only from the moment it exists (umask, then chmod to be
 * sure): both APIs run containers as root, so no other user may connect; an old socket file is
 * replaced — callers hold the data root's engine lock, so it belongs to an engine that is gone.
 * A named pipe gets the default DACL (above) and must not exist yet.
 */
export async function listenOwnerOnly(server: net.Server, address: string): Promise<void> {
  if (isPipeAddress(address)) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? unavailable(`the named pipe ${address} is already in use`, 'stop the other Silo engine for this data root') : err));
      server.listen(address, () => resolve());
    });
    return;
  }
  await fs.rm(address, { force: true });
  const oldMask = process.umask(0o077);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address, () => resolve());
    });
  } finally {
    process.umask(oldMask);
  }
  await fs.chmod(address, 0o600);
}
