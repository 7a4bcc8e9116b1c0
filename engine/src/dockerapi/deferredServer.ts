// The Docker API's endpoints as the engine opens them: the socket listens from the start, but the
// HTTP server and its routes (server.ts, with node:http and everything the routes reach) load at the
// first connection. Most engines are never asked for the Docker API, and code that never loads costs
// no memory (target: an idle engine under 60 MB).
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import type * as http from 'node:http';
import type * as Server from './server';
import type { Engine } from '../service/engine';
import { listenOwnerOnly } from '../rpc/paths';
import { dockerHostOf, isPipeAddress } from './endpoint';
import { trackConnections } from './connections';
export { dockerApiAddress } from './endpoint';
export type { DockerApiServer } from './server';

function loadServer(): typeof Server {
  return require('./server') as typeof Server;
}

/**
 * Listens on `address` (endpoint.ts dockerApiAddress): a Unix socket created owner-only (an old socket
 * file there is replaced), or a Windows named pipe with libuv's default DACL (a pipe of that name
 * already served by anyone is an error, never shared). The HTTP server is made at the first connection.
 */
export async function listenDockerApi(engine: Engine, address: string): Promise<Server.DockerApiServer> {
  let httpServer: http.Server | undefined;
  // Half-open as node:http's own listener is (lib/_http_server.js): `docker attach` and `exec` close
  // their sending side when stdin ends and still read the output.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    if (!httpServer) {
      httpServer = loadServer().makeServer(engine);
      // node:http starts tracking connections (headersTimeout, closeAllConnections) on 'listening'
      // (lib/_http_server.js setupConnectionsTracking); this server never listens itself.
      httpServer.emit('listening');
    }
    httpServer.emit('connection', socket);
  });
  const connections = trackConnections(server);
  await listenOwnerOnly(server, address);
  return {
    address: dockerHostOf(address),
    async close() {
      connections.destroyAll();
      // Stops its connection checks; it was never listening, so the callback's error is expected.
      httpServer?.close(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!isPipeAddress(address)) await fs.rm(address, { force: true });
    },
  };
}

/** TCP, only when asked (`--docker-tcp`): loads the server at once. */
export function listenDockerApiTcp(engine: Engine, host: string, port: number): Promise<Server.DockerApiServer> {
  return loadServer().listenDockerApiTcp(engine, host, port);
}
