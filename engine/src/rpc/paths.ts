// Where an engine's sockets are in its data root: shared by the engine and its clients, and small, so
// that the CLI bundle does not carry the engine.
import * as path from 'node:path';

/** The engine protocol (JSON-RPC), owner-only. */
export function engineSocketPath(root: string): string {
  return path.join(root, 'engine.sock');
}

/** The Docker Engine API, owner-only. */
export function dockerSocketPath(root: string): string {
  return path.join(root, 'docker.sock');
}
