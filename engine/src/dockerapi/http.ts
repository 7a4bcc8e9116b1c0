// The HTTP edge of the Docker Engine API: one Reply per request whether it came as a plain request or
// as an `Upgrade: tcp` request (which Docker answers with 101 and then owns the raw connection), and
// the one mapping from Silo's error kinds to Docker's status codes and `{"message": ...}` bodies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex, type Writable } from 'node:stream';
import { invalidArgument, SiloError, type ErrorKind } from '../errors';

const STATUS: Record<ErrorKind, number> = {
  NotFound: 404,
  AlreadyExists: 409,
  InvalidArgument: 400,
  FailedPrecondition: 409,
  Unavailable: 503,
  PermissionDenied: 403,
  NotImplemented: 501,
  Canceled: 499,
  Internal: 500,
};

const REASON: Record<number, string> = {
  101: 'UPGRADED', 200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request', 403: 'Forbidden',
  404: 'Not Found', 409: 'Conflict', 499: 'Client Closed Request', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
};

/** Docker's status code and message for an error thrown below the edge. */
export function errorResponse(err: unknown): { status: number; message: string } {
  if (err instanceof SiloError) return { status: STATUS[err.kind], message: err.line };
  return { status: 500, message: err instanceof Error ? err.message : String(err) };
}

/** What a handler answers with. A hijacked connection is a raw duplex stream after `101 UPGRADED`. */
export interface Reply {
  json(status: number, body: unknown, headers?: Record<string, string>): void;
  empty(status: number, headers?: Record<string, string>): void;
  error(err: unknown): void;
  /** Starts a streamed body (chunked); the caller writes and ends it. */
  stream(status: number, contentType: string, headers?: Record<string, string>): Writable;
  /** Takes over the connection: input from the client and output to it, no HTTP framing. */
  hijack(contentType: string): Duplex;
  /** True once headers went out (errors after that can only end the stream). */
  readonly started: boolean;
  /** Fires when the client goes away. */
  readonly closed: AbortSignal;
}

export class HttpReply implements Reply {
  private readonly ac = new AbortController();
  constructor(private readonly res: ServerResponse, private readonly req: IncomingMessage) {
    res.on('close', () => this.ac.abort());
  }
  get closed() {
    return this.ac.signal;
  }
  get started() {
    return this.res.headersSent;
  }
  json(status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = JSON.stringify(body) + '\n';
    this.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    this.res.end(text);
  }
  empty(status: number, headers: Record<string, string> = {}) {
    this.res.writeHead(status, headers);
    this.res.end();
  }
  error(err: unknown) {
    const { status, message } = errorResponse(err);
    if (this.res.headersSent) {
      this.res.destroy();
      return;
    }
    this.json(status, { message });
  }
  stream(status: number, contentType: string, headers: Record<string, string> = {}) {
    this.res.writeHead(status, { 'Content-Type': contentType, ...headers });
    this.res.flushHeaders();
    return this.res;
  }
  hijack(contentType: string): Duplex {
    // A client that did not ask to upgrade gets the stream as a plain body; its input is the request body.
    this.res.writeHead(200, { 'Content-Type': contentType });
    this.res.flushHeaders();
    return Duplex.from({ readable: this.req, writable: this.res });
  }
}

/** A reply on the raw socket of an `Upgrade` request (node:http hands such requests over untouched). */
export class UpgradeReply implements Reply {
  private sent = false;
  private readonly ac = new AbortController();
  constructor(private readonly socket: Duplex) {
    socket.on('close', () => this.ac.abort());
  }
  get closed() {
    return this.ac.signal;
  }
  get started() {
    return this.sent;
  }
  private head(status: number, headers: Record<string, string | number>) {
    this.sent = true;
    const lines = [`HTTP/1.1 ${status} ${REASON[status] ?? 'OK'}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    this.socket.write(lines.join('\r\n') + '\r\n\r\n');
  }
  json(status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = JSON.stringify(body) + '\n';
    this.head(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), Connection: 'close', ...headers });
    this.socket.end(text);
  }
  empty(status: number, headers: Record<string, string> = {}) {
    this.head(status, { 'Content-Length': 0, Connection: 'close', ...headers });
    this.socket.end();
  }
  error(err: unknown) {
    if (this.sent) {
      this.socket.destroy();
      return;
    }
    const { status, message } = errorResponse(err);
    this.json(status, { message });
  }
  stream(status: number, contentType: string, headers: Record<string, string> = {}) {
    this.head(status, { 'Content-Type': contentType, Connection: 'close', ...headers });
    return this.socket;
  }
  hijack(contentType: string): Duplex {
    this.head(101, { 'Content-Type': contentType, Connection: 'Upgrade', Upgrade: 'tcp' });
    return this.socket;
  }
}

const MAX_JSON = 4 * 1024 * 1024;

/** Reads a whole small body (JSON requests); the size is bounded. */
export async function readBody(input: AsyncIterable<Buffer | string>, limit = MAX_JSON): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of input) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    n += b.length;
    if (n > limit) throw invalidArgument(`request body is larger than ${limit} bytes`);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** Parses a JSON body; an empty body is undefined, malformed JSON an InvalidArgument. */
export function parseJson<T>(body: Buffer): T | undefined {
  const text = body.toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw invalidArgument(`invalid JSON in the request body: ${(err as Error).message}`);
  }
}

/** Docker's boolean query values: 1, true, True (moby httputils.BoolValue: anything but "", 0, false, none). */
export function queryBool(q: URLSearchParams, name: string): boolean {
  const v = (q.get(name) ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false' && v !== 'no' && v !== 'none';
}

export function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw invalidArgument(`invalid value for ${name}: "${v}" is not an integer`);
  return n;
}
