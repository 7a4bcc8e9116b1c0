// Where the Docker Engine API of a data root listens, and the DOCKER_HOST that reaches it. Shared by
// the engine (server.ts) and `silo docker-env`, and small (no engine imports) so the CLI bundle stays thin.
//
// Linux: <root>/docker.sock, owner-only (rpc/paths.ts listenOwnerOnly).
// Windows: the named pipe `\\.\pipe\silo-docker-<16 hex of the data root>` (rpc/paths.ts rootPipe, which
// says who may connect): never `docker_engine`, so it cannot collide with Docker Desktop or dockerd.
// dockerd's docker_engine allows Administrators and SYSTEM (moby daemon/listeners/listeners_windows.go,
// SDDL D:P(A;;GA;;;BA)(A;;GA;;;SY)); the default pipe DACL Silo gets is the same circle plus the owner.
import * as path from 'node:path';
import { isPipeAddress, rootPipe } from '../rpc/paths';

export { isPipeAddress };

/** The pipe (Windows) or socket path (elsewhere) the Docker API of `root` listens on. */
export function dockerApiAddress(root: string, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return rootPipe('docker', root);
  return path.join(root, 'docker.sock');
}

/** DOCKER_HOST for a pipe or socket address: `npipe:////./pipe/NAME` (the docker CLI's spelling) or `unix:///PATH`. */
export function dockerHostOf(address: string): string {
  if (isPipeAddress(address)) return `npipe:////./pipe/${address.replace(/^[\\/]{2}\.[\\/]pipe[\\/]/i, '')}`;
  return `unix://${address}`;
}

/** DOCKER_HOST for the Docker API of `root`. */
export function dockerHost(root: string, platform: NodeJS.Platform = process.platform): string {
  return dockerHostOf(dockerApiAddress(root, platform));
}

/** The line `silo docker-env` prints: PowerShell on Windows, POSIX shells elsewhere. */
export function dockerEnvLine(root: string, platform: NodeJS.Platform = process.platform): string {
  const host = dockerHost(root, platform);
  return platform === 'win32' ? `$env:DOCKER_HOST="${host}"` : `export DOCKER_HOST=${host}`;
}
