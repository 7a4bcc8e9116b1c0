// Routes of the Docker Engine API: METHOD + path pattern -> handler. Paths come versioned
// (/v1.41/containers/json) or not; the version prefix is checked against what Silo serves and dropped.
import type { IncomingMessage } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { invalidArgument, notFound, SiloError } from '../errors';
import type { Engine } from '../service/engine';
import { parseJson, readBody, type Reply } from './http';

/** The API version Silo announces (Docker 20.10's), and the oldest a client may ask for. */
export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.24';

export interface Ctx {
  engine: Engine;
  req: IncomingMessage;
  reply: Reply;
  /** Captures of the route pattern, URL-decoded. */
  params: string[];
  query: URLSearchParams;
  /** The request body as a stream (for tarballs). */
  input: Readable;
  /** The whole body as JSON (undefined when empty). */
  json<T>(): Promise<T | undefined>;
}

export type Handler = (ctx: Ctx) => Promise<void> | void;

export interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

/** `'/containers/{}/json'` -> a RegExp with one capture per `{}` (a name may hold slashes only where `{*}`). */
export function route(method: string, pattern: string, handler: Handler): Route {
  const re = pattern.replace(/[.+?^$()[\]\\|]/g, '\\$&').replace(/\{\*\}/g, '(.+)').replace(/\{\}/g, '([^/]+)');
  return { method, pattern: new RegExp(`^${re}$`), handler };
}

function versionAllowed(v: string): boolean {
  const [maj, min] = v.split('.').map(Number);
  const [amaj, amin] = API_VERSION.split('.').map(Number);
  const [lmaj, lmin] = MIN_API_VERSION.split('.').map(Number);
  const n = maj * 1000 + min;
  return n <= amaj * 1000 + amin && n >= lmaj * 1000 + lmin;
}

export function splitVersion(pathname: string): { version?: string; path: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(pathname);
  return m ? { version: m[1], path: m[2] } : { path: pathname };
}

/** Reads exactly `n` body bytes from a hijacked socket (the rest is the client's stream input). */
function readExact(socket: Duplex, head: Buffer, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = head;
    const done = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      if (buf.length > n) socket.unshift(buf.subarray(n));
      resolve(buf.subarray(0, n));
    };
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= n) done();
    };
    const onEnd = () => reject(invalidArgument('the request body ended early'));
    if (buf.length >= n) {
      if (buf.length > n) socket.unshift(buf.subarray(n));
      resolve(buf.subarray(0, n));
      return;
    }
    socket.on('data', onData);
    socket.on('end', onEnd);
  });
}

export class Router {
  constructor(private readonly routes: Route[]) {}

  /** Serves one request; `upgrade` is set for `Upgrade: tcp` requests (the socket and bytes read past the head). */
  async dispatch(engine: Engine, req: IncomingMessage, reply: Reply, upgrade?: { socket: Duplex; head: Buffer }): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://docker');
      const { version, path } = splitVersion(url.pathname);
      if (version && !versionAllowed(version)) {
        throw invalidArgument(`client version ${version} is not supported by Silo (API ${MIN_API_VERSION} to ${API_VERSION})`, 'set DOCKER_API_VERSION to one in that range');
      }
      const method = req.method === 'HEAD' && !this.routes.some((r) => r.method === 'HEAD' && r.pattern.test(path)) ? 'GET' : req.method ?? 'GET';
      let matchedPath = false;
      for (const r of this.routes) {
        const m = r.pattern.exec(path);
        if (!m) continue;
        matchedPath = true;
        if (r.method !== method) continue;
        const input: Readable = upgrade ? (upgrade.socket as unknown as Readable) : req;
        let bodyRead: Promise<Buffer> | undefined;
        const ctx: Ctx = {
          engine,
          req,
          reply,
          params: m.slice(1).map((s) => decodeURIComponent(s)),
          query: url.searchParams,
          input,
          json: async <T>() => {
            if (upgrade) {
              const len = Number(req.headers['content-length'] ?? 0);
              bodyRead ??= len > 0 ? readExact(upgrade.socket, upgrade.head, len) : Promise.resolve(Buffer.alloc(0));
            } else {
              bodyRead ??= readBody(req);
            }
            return parseJson<T>(await bodyRead);
          },
        };
        if (upgrade && upgrade.head.length && !req.headers['content-length']) upgrade.socket.unshift(upgrade.head);
        await r.handler(ctx);
        return;
      }
      if (matchedPath) throw new SiloError('InvalidArgument', `method ${method} is not allowed on ${path}`);
      throw notFound(`page not found: ${path} is not part of the Docker API subset Silo serves`, 'see GET /version for the API version');
    } catch (err) {
      reply.error(err);
    }
  }
}
