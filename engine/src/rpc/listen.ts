// The engine process: one per data root (held by an flock on <root>/engine.lock), serving the
// engine protocol on the owner-only socket <root>/engine.sock. Containers do not depend on it:
// their monitors keep running when it exits, and the next engine picks them up.
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { createMessageConnection, SocketMessageReader, SocketMessageWriter } from 'vscode-jsonrpc/node';
import { unavailable } from '../errors';
import { tryLock } from '../store/lock';
import { hostPlatform } from '../platform';
import { Engine } from '../service/engine';
import { serveConnection } from './server';
import { engineSocketPath, isPipeAddress, listenOwnerOnly } from './paths';
import { dockerApiAddress, listenDockerApi, listenDockerApiTcp, type DockerApiServer } from '../dockerapi/deferredServer';
import { parseDockerTcpAddress } from '../dockerapi/tcpAddress';

export { engineSocketPath };

export interface RunningEngine {
  engine: Engine;
  close(): Promise<void>;
}

export interface RunEngineOptions {
  /** Also serve the Docker API over TCP at this loopback HOST:PORT (`silo engine --docker-tcp`). */
  dockerTcp?: string;
}

type Gc = (options?: { type?: 'minor' | 'major' }) => void;

/**
 * A full collection, preceded by young ones that make V8 see the engine as idle. V8 gives back the
 * young generation's second 1 MB semi-space only when allocation is slow (under 1 KB/ms, heap.cc
 * ReduceNewSpaceSize), measured over its last 10 collections (gc-tracer.h kRingBufferMaxSize) within
 * 5 s: after a burst of requests those are the burst's, and one collection 2 s later keeps all of it.
 * Ten young collections of an empty young generation take well under a millisecond each and age no
 * bytecode (only full collections do), so the next request runs the same code as before.
 */
function collectIdle(): void {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (!gc) return;
  for (let i = 0; i < 10; i++) gc({ type: 'minor' });
  gc();
}

export async function runEngine(root: string, opts: RunEngineOptions = {}): Promise<RunningEngine> {
  // A bad address is refused before anything starts.
  const tcp = opts.dockerTcp === undefined ? undefined : parseDockerTcpAddress(opts.dockerTcp);
  // A daemon serving many clients must not die of one forgotten promise: say it in engine.log.
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`silo engine: unhandled error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  });
  await fs.mkdir(root, { recursive: true, mode: 0o700 });
  const lock = await tryLock(path.join(root, 'engine.lock'));
  if (!lock) throw unavailable(`an engine is already running for ${root}`, 'connect to it with the silo CLI, or stop it first');
  const engine = new Engine(root, hostPlatform(root));
  await engine.init();

  const socketPath = engineSocketPath(root);
  // When no request has come for a while, collect garbage and return freed memory: the engine idles
  // most of its life, and its resident size is what a user pays for it (target: under 60 MB).
  let idleTimer: NodeJS.Timeout | undefined;
  const busy = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      collectIdle();
      engine.platform.releaseMemory?.();
    }, 2000);
    idleTimer.unref();
  };
  busy();
  const server = net.createServer((socket) => {
    socket.on('data', busy);
    const conn = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    const served = serveConnection(engine, conn);
    conn.onClose(() => served.dispose());
    socket.on('error', () => conn.dispose());
    conn.listen();
  });
  await listenOwnerOnly(server, socketPath);
  // The Docker Engine API, on the same Engine, at <root>/docker.sock (owner-only too; a named pipe on Windows).
  const dockerApi = await listenDockerApi(engine, dockerApiAddress(root));
  let dockerTcp: DockerApiServer | undefined;
  if (tcp) {
    try {
      dockerTcp = await listenDockerApiTcp(engine, tcp.host, tcp.port);
    } catch (err) {
      await dockerApi.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!isPipeAddress(socketPath)) await fs.rm(socketPath, { force: true });
      await lock.release();
      throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? unavailable(`--docker-tcp ${opts.dockerTcp}: the address is in use`, 'pick another port') : err;
    }
    process.stderr.write(`silo engine: Docker API also on ${dockerTcp.address}\n`);
  }

  return {
    engine,
    async close() {
      await dockerTcp?.close();
      await dockerApi.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!isPipeAddress(socketPath)) await fs.rm(socketPath, { force: true });
      await lock.release();
    },
  };
}
