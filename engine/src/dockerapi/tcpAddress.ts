// `silo engine --docker-tcp HOST:PORT`: where the Docker API may also listen over TCP. The API runs
// containers as root and has no authentication (dockerd's plain `-H tcp://` is the same), so only a
// loopback address is accepted; anything else is refused before the engine starts. The sentences carry
// their own "use ...": `silo engine` prints the message alone.
import * as net from 'node:net';
import { invalidArgument } from '../errors';

export interface TcpAddress {
  host: string;
  port: number;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
}

/** "127.0.0.1:2375", "localhost:2375", "[::1]:2375" (an optional tcp:// prefix, as in DOCKER_HOST). */
export function parseDockerTcpAddress(value: string): TcpAddress {
  const m = /^(?:tcp:\/\/)?(?:\[([^\]]+)\]|([^:/\s]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port > 0 && port < 65536)) {
    throw invalidArgument(`--docker-tcp ${value} is not HOST:PORT; use 127.0.0.1:2375`);
  }
  const host = m[1] ?? m[2];
  if (!isLoopbackHost(host)) {
    throw invalidArgument(`--docker-tcp ${value} refused: the Docker API listens on loopback only (anyone who reaches it runs containers as root); use 127.0.0.1:PORT`);
  }
  return { host, port };
}
