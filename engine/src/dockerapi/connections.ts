// The Docker API's open connections, so that closing the API ends them all.
import type * as net from 'node:net';

/**
 * Every connection `server` accepts, to end at close: node:http's closeAllConnections does not reach the
 * hijacked ones (attach, exec), and a server waits for all of its connections before it closes — an
 * engine asked to stop would wait on a `docker attach` forever.
 */
export function trackConnections(server: net.Server): { destroyAll(): void } {
  const open = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return { destroyAll: () => open.forEach((s) => s.destroy()) };
}
