// The Docker Engine API server: HTTP/1.1 with node:http on an owner-only Unix socket in the data root
// (<root>/docker.sock), beside the engine protocol's socket, or on Windows on Silo's own named pipe
// (endpoint.ts says who may open it). TCP only when asked, and then loopback only.
// Every route calls the same Engine services the JSON-RPC server calls.
import * as http from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { invalidArgument } from '../errors';
import type { Engine } from '../service/engine';
import { archiveRoutes } from './archive';
import { containerRoutes } from './containers';
import { distributionRoutes } from './distribution';
import { execRoutes } from './exec';
import { buildRoutes } from './build';
import { HttpReply, UpgradeReply } from './http';
import { imageRoutes } from './images';
import { networkRoutes } from './networks';
import { Router } from './router';
import { statsRoutes } from './stats';
import { systemRoutes } from './system';
import { isLoopbackHost } from './tcpAddress';
import { trackConnections } from './connections';
export { dockerApiAddress } from './endpoint';

export interface DockerApiServer {
  /** 'unix:///...', 'npipe:////./pipe/...' or 'tcp://127.0.0.1:PORT'. */
  readonly address: string;
  close(): Promise<void>;
}

export function dockerRouter(): Router {
  return new Router([...systemRoutes, ...distributionRoutes, ...buildRoutes, ...execRoutes, ...statsRoutes, ...archiveRoutes, ...containerRoutes, ...imageRoutes, ...networkRoutes]);
}

/** The HTTP server over the routes, not yet listening (deferredServer.ts hands it connections). */
export function makeServer(engine: Engine): http.Server {
  const router = dockerRouter();
  const server = http.createServer({ keepAliveTimeout: 30_000, requestTimeout: 0 }, (req, res) => {
    void router.dispatch(engine, req, new HttpReply(res, req));
  });
  // Attach and exec start come as `Upgrade: tcp` requests (moby api/server/httputils hijack).
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    void router.dispatch(engine, req, new UpgradeReply(socket), { socket, head });
  });
  // Long streams (logs -f, events, wait) must not be cut by Node's defaults.
  server.headersTimeout = 60_000;
  server.timeout = 0;
  return server;
}


/** TCP, only when asked and only on a loopback address: the API runs containers as root. */
export async function listenDockerApiTcp(engine: Engine, host: string, port: number): Promise<DockerApiServer> {
  if (!isLoopbackHost(host)) {
    throw invalidArgument(`the Docker API listens on loopback only, not ${host}`, 'use 127.0.0.1');
  }
  const server = makeServer(engine);
  const connections = trackConnections(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as net.AddressInfo;
  return {
    address: `tcp://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    async close() {
      connections.destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
