// HTTP for the distribution API: one request with redirects followed by hand, so that credentials
// never follow a redirect to another origin (blob downloads are commonly redirected to storage hosts;
// CVE-2020-15157 is what happens otherwise), and an idle timeout so a server that stops sending (or
// trickles) ends in an error instead of a hang.
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { SiloError, unavailable } from '../errors';

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** Buffered or streamed request body. */
  body?: Buffer | Readable;
  /** Abort the request when no byte moves for this long (default 60 s). */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  /** Follow redirects (GET/HEAD only); default true. */
  followRedirects?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  url: string;
  body: http.IncomingMessage;
}

const MAX_REDIRECTS = 5;
const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 16 }), https: new https.Agent({ keepAlive: true, maxSockets: 16 }) };

/** Header names that carry secrets: dropped when a redirect leaves the origin. */
const SECRET_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/** One header value as a string. */
export function header(res: { headers: http.IncomingHttpHeaders }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function once(req: HttpRequest, url: URL): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!mod) {
      reject(new SiloError('InvalidArgument', `unsupported URL scheme in ${url.protocol}//${url.host}`));
      return;
    }
    const idle = req.idleTimeoutMs ?? 60_000;
    const r = mod.request(
      url,
      {
        method: req.method,
        headers: { 'user-agent': 'silo', ...req.headers },
        agent: url.protocol === 'https:' ? agents.https : agents.http,
        signal: req.signal,
      },
      (res) => {
        // The idle timer keeps running while the body streams: a trickle that stops is an error.
        res.setTimeout?.(idle);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, url: url.toString(), body: res });
      },
    );
    r.setTimeout(idle, () => {
      r.destroy(unavailable(`${url.host} sent nothing for ${Math.round(idle / 1000)} s`, 'the registry or the network is stalled; retry later'));
    });
    r.on('error', reject);
    const body = req.body;
    if (body === undefined) r.end();
    else if (Buffer.isBuffer(body)) r.end(body);
    else {
      body.on('error', (err) => r.destroy(err));
      body.pipe(r);
    }
  });
}

/** Sends the request, following up to 5 redirects for GET and HEAD; secrets stay with the first origin. */
export async function send(req: HttpRequest): Promise<HttpResponse> {
  let url = new URL(req.url);
  const origin = url.origin;
  let headers = { ...req.headers };
  for (let hop = 0; ; hop++) {
    const res = await once({ ...req, headers }, url);
    const location = header(res, 'location');
    const redirect = [301, 302, 303, 307, 308].includes(res.status) && location && (req.method === 'GET' || req.method === 'HEAD');
    if (!redirect || req.followRedirects === false) return res;
    res.body.resume();
    if (hop >= MAX_REDIRECTS) throw unavailable(`too many redirects fetching ${new URL(req.url).pathname}`);
    url = new URL(location, url);
    if (url.origin !== origin) {
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !SECRET_HEADERS.includes(k.toLowerCase())));
    }
  }
}

/** Reads a whole (small) body, refusing more than maxBytes. */
export async function readBody(res: HttpResponse, maxBytes: number, what: string): Promise<Buffer> {
  const declared = Number(header(res, 'content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.body.destroy();
    throw new SiloError('InvalidArgument', `${what} is ${declared} bytes, more than the ${maxBytes} allowed`);
  }
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of res.body) {
    n += (chunk as Buffer).length;
    if (n > maxBytes) {
      res.body.destroy();
      throw new SiloError('InvalidArgument', `${what} is more than the ${maxBytes} bytes allowed`);
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** Drains and discards a response body (so the socket goes back to the pool). */
export function discard(res: HttpResponse): void {
  res.body.resume();
  res.body.on('error', () => undefined);
}
