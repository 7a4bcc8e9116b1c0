// Where an engine's sockets are in its data root: shared by the engine and its clients, and small, so
// that the CLI bundle does not carry the engine.
import { promises as fs } from 'node:fs';
import type * as net from 'node:net';
import * as path from 'node:path';

/** The engine protocol (JSON-RPC), owner-only. */
export function engineSocketPath(root: string): string {
  return path.join(root, 'engine.sock');
}

/** The Docker Engine API, owner-only. */
export function dockerSocketPath(root: string): string {
  return path.join(root, 'docker.sock');
}

/**
 * Listens on a Unix socket that is owner-only from the moment it exists (umask, then chmod to be sure):
 * both APIs run containers as root, so no other user may connect. An old socket file is replaced —
 * callers hold the data root's engine lock, so it belongs to an engine that is gone.
 */
export async function listenOwnerOnly(server: net.Server, socketPath: string): Promise<void> {
  await fs.rm(socketPath, { force: true });
  const oldMask = process.umask(0o077);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
  } finally {
    process.umask(oldMask);
  }
  await fs.chmod(socketPath, 0o600);
}
