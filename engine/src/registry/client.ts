// One registry's distribution API (opencontainers/distribution-spec spec.md): manifests, blobs,
// uploads. It finds the endpoint (https; plain http for loopback and configured insecure hosts, as
// Docker treats 127.0.0.0/8), authorizes through auth.ts, and retries 429 and 5xx with exponential
// back-off and jitter (honouring Retry-After), 5 attempts as moby's download default. A 401 after a
// fresh credential ends the loop with PermissionDenied.
import type { Readable } from 'node:stream';
import { SiloError, invalidArgument, notFound, permissionDenied, unavailable } from '../errors';
import { isSha256Digest, sha256Digest } from '../image/digest';
import { DEFAULT_DOMAIN } from '../image/reference';
import type { Descriptor } from '../image/types';
import { Authorizer, type CredentialSource } from './auth';
import { parseChallenges } from './challenge';
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES } from './manifest';
import { discard, header, readBody, send, type HttpResponse } from './transport';

/** Docker Hub's API endpoint for references on docker.io (distribution/reference: docker.io is a name, not a host). */
const DOCKER_HUB_ENDPOINT = 'registry-1.docker.io';

export interface RegistryClientOptions {
  credentials?: CredentialSource;
  /** Hosts (host[:port]) reached over plain http besides loopback ones. */
  insecure?: readonly string[];
  /** No byte for this long ends a request (default 60 s). */
  idleTimeoutMs?: number;
  /** Attempts for 429, 5xx and dropped connections (default 5). */
  attempts?: number;
  /** First back-off in ms, doubled each retry (default 500). */
  backoffMs?: number;
  signal?: AbortSignal;
}

export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A path under the endpoint ("/v2/library/busybox/manifests/latest") or an absolute URL (upload locations). */
  path: string;
  headers?: Record<string, string>;
  /** A buffer, or a factory so a retry can send the body again. */
  body?: Buffer | (() => Readable);
  /** Token scopes the request needs ("repository:library/busybox:pull"). */
  scopes: string[];
  /** Statuses returned to the caller instead of retried or turned into errors. */
  accept?: number[];
  /** No automatic retry (the caller handles a partial body). */
  noRetry?: boolean;
}

export function isLoopbackHost(domain: string): boolean {
  const host = domain.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || /^127\./.test(host) || host === '::1';
}

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const RETRY_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'UND_ERR_SOCKET']);

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new SiloError('Canceled', 'the operation was cancelled'));
    }, { once: true });
  });

/** The registry's error reply ({"errors":[{"code","message"}]}) as one short phrase; never echoes headers. */
async function errorText(res: HttpResponse): Promise<string> {
  try {
    const body = await readBody(res, 64 * 1024, 'error reply');
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: string; message?: string }> };
    const e = parsed.errors?.[0];
    if (e) return [e.code?.toLowerCase().replace(/_/g, ' '), e.message].filter(Boolean).join(': ').slice(0, 200);
  } catch {
    /* not JSON */
  }
  return `HTTP ${res.status}`;
}

export class RegistryClient {
  private base?: URL;
  private readonly auth: Authorizer;
  private readonly attempts: number;
  private readonly backoffMs: number;
  readonly idleTimeoutMs: number;

  constructor(
    /** The registry as references name it: "docker.io", "localhost:5000". */
    readonly domain: string,
    private readonly opts: RegistryClientOptions = {},
  ) {
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
    this.attempts = opts.attempts ?? 5;
    this.backoffMs = opts.backoffMs ?? 500;
    this.auth = new Authorizer(domain, () => this.base!, opts.credentials, this.idleTimeoutMs);
  }

  private plainHttpAllowed(): boolean {
    return isLoopbackHost(this.domain) || (this.opts.insecure ?? []).includes(this.domain);
  }

  /** The endpoint URL; https first, http for loopback and insecure hosts when https does not answer. */
  async endpoint(): Promise<URL> {
    if (this.base) return this.base;
    const host = this.domain === DEFAULT_DOMAIN ? DOCKER_HUB_ENDPOINT : this.domain;
    const https = new URL(`https://${host}`);
    if (!this.plainHttpAllowed()) return (this.base = https);
    try {
      const res = await send({ method: 'GET', url: `${https.origin}/v2/`, idleTimeoutMs: Math.min(this.idleTimeoutMs, 5000), signal: this.opts.signal });
      discard(res);
      this.base = https;
    } catch {
      this.base = new URL(`http://${host}`);
    }
    return this.base;
  }

  /** Sends a request with authorization, retries and one clear error for each failure. */
  async request(req: RegistryRequest): Promise<HttpResponse> {
    const base = await this.endpoint();
    const url = new URL(req.path, base);
    const sameOrigin = url.origin === base.origin;
    let unauthorized = 0;
    for (let attempt = 1; ; attempt++) {
      const headers = { ...req.headers };
      const authHeader = sameOrigin ? await this.auth.header(req.scopes) : undefined;
      if (authHeader) headers.authorization = authHeader;
      let res: HttpResponse;
      try {
        res = await send({
          method: req.method,
          url: url.toString(),
          headers,
          body: typeof req.body === 'function' ? req.body() : req.body,
          idleTimeoutMs: this.idleTimeoutMs,
          signal: this.opts.signal,
        });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        const retryable = RETRY_CODES.has(code) || (err instanceof SiloError && err.kind === 'Unavailable');
        if (this.opts.signal?.aborted) throw new SiloError('Canceled', 'the operation was cancelled');
        if (!req.noRetry && retryable && attempt < this.attempts) {
          await sleep(this.delay(attempt), this.opts.signal);
          continue;
        }
        if (err instanceof SiloError) throw err;
        throw unavailable(`cannot reach ${this.domain}: ${code || (err as Error).message}`, 'check that the registry is up and the name is right');
      }
      if (req.accept?.includes(res.status)) return res;
      if (res.status === 401 && sameOrigin) {
        discard(res);
        unauthorized++;
        const retry = unauthorized <= 2 && (await this.auth.challenged(parseChallenges(res.headers['www-authenticate']), req.scopes, authHeader !== undefined));
        if (retry) continue;
        const has = await this.auth.hasCredential();
        throw permissionDenied(`unauthorized: ${this.domain} refused ${has ? 'the stored credentials' : 'anonymous access'} for ${req.scopes.map((s) => s.replace(/^repository:/, '')).join(', ') || 'this request'}`,
          has ? `check them with silo login ${this.domain}, and that they may access this repository` : `log in with silo login ${this.domain}`);
      }
      if (RETRY_STATUSES.has(res.status) && !req.noRetry && attempt < this.attempts) {
        discard(res);
        const after = Number(header(res, 'retry-after'));
        await sleep(Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 30_000) : this.delay(attempt), this.opts.signal);
        continue;
      }
      return res;
    }
  }

  private delay(attempt: number): number {
    const d = this.backoffMs * 2 ** (attempt - 1);
    return Math.min(d / 2 + Math.random() * d, 30_000);
  }

  /** Fails with a clear error for any status not in `ok` (the reply body is read for the registry's reason). */
  async expect(res: HttpResponse, ok: number[], what: string): Promise<void> {
    if (ok.includes(res.status)) return;
    const text = await errorText(res);
    if (res.status === 404) throw notFound(`${what}: not found (${text})`);
    if (res.status === 403) throw permissionDenied(`${what}: denied (${text})`);
    if (res.status === 401) throw permissionDenied(`${what}: unauthorized (${text})`);
    if (res.status === 429 || res.status >= 500) throw unavailable(`${what}: the registry answered ${res.status} (${text})`, 'retry later');
    throw invalidArgument(`${what}: the registry answered ${res.status} (${text})`);
  }

  /**
   * A manifest or index by tag or digest, its bytes verified: against the digest asked for, and
   * against Docker-Content-Digest when the registry sends one.
   */
  async getManifest(repo: string, reference: string): Promise<{ bytes: Buffer; digest: string; contentType?: string }> {
    const what = `manifest ${this.domain}/${repo}:${reference}`.replace(/:sha256:/, '@sha256:');
    const res = await this.request({ method: 'GET', path: `/v2/${repo}/manifests/${reference}`, headers: { accept: MANIFEST_ACCEPT }, scopes: [`repository:${repo}:pull`] });
    if (res.status === 404) {
      discard(res);
      throw notFound(`${what} not found: manifest unknown`, 'check the name and tag');
    }
    await this.expect(res, [200], what);
    const bytes = await readBody(res, MAX_MANIFEST_BYTES, what);
    const digest = sha256Digest(bytes);
    if (reference.includes(':') && reference !== digest) {
      throw invalidArgument(`${what}: manifest verification failed, the content has digest ${digest}`, 'the registry serves corrupt or substituted content');
    }
    const claimed = header(res, 'docker-content-digest');
    if (claimed && isSha256Digest(claimed) && claimed !== digest) {
      throw invalidArgument(`${what}: the registry says its digest is ${claimed} but the content has ${digest}`, 'the registry serves corrupt or substituted content');
    }
    return { bytes, digest, contentType: header(res, 'content-type') };
  }

  /**
   * Opens a blob for reading from `offset`: the registry first, then each of the descriptor's
   * foreign `urls` in turn, which never get the registry's credentials (CVE-2020-15157). `start` is
   * where the body begins: 0 when the source ignored the Range.
   */
  async openBlob(repo: string, desc: Descriptor, offset: number): Promise<{ res: HttpResponse; start: number; source: string }> {
    const range: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const attempts: Array<() => Promise<HttpResponse>> = [
      () => this.request({ method: 'GET', path: `/v2/${repo}/blobs/${desc.digest}`, headers: range, scopes: [`repository:${repo}:pull`], accept: [404, 416] }),
    ];
    for (const u of desc.urls ?? []) {
      let parsed: URL;
      try {
        parsed = new URL(u);
      } catch {
        continue;
      }
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') continue;
      attempts.push(() => send({ method: 'GET', url: parsed.toString(), headers: range, idleTimeoutMs: this.idleTimeoutMs, signal: this.opts.signal }));
    }
    let last = '';
    for (const [i, open] of attempts.entries()) {
      const res = await open().catch((err: Error) => {
        last = err.message;
        return undefined;
      });
      if (!res) continue;
      const source = i === 0 ? this.domain : new URL(res.url).host;
      if (res.status === 416 && offset > 0) {
        discard(res);
        return this.openBlob(repo, desc, 0);
      }
      if (res.status === 206) {
        const m = /^bytes (\d+)-/.exec(header(res, 'content-range') ?? '');
        if (!m || Number(m[1]) !== offset) {
          discard(res);
          throw unavailable(`${source} answered a different byte range than asked for blob ${desc.digest}`, 'retry the pull');
        }
        return { res, start: offset, source };
      }
      if (res.status === 200) return { res, start: 0, source };
      last = await errorText(res);
      if (i === 0 && res.status !== 404) await this.expect(res, [200], `blob ${desc.digest}`).catch((err) => (last = (err as Error).message));
    }
    throw notFound(`blob ${desc.digest} of ${this.domain}/${repo} could not be fetched (${last || 'not found'})`, 'the image is incomplete in the registry');
  }

  // ---------- push ----------

  async blobExists(repo: string, digest: string): Promise<boolean> {
    const res = await this.request({ method: 'HEAD', path: `/v2/${repo}/blobs/${digest}`, scopes: [`repository:${repo}:pull,push`], accept: [404] });
    discard(res);
    if (res.status === 404) return false;
    await this.expect(res, [200], `blob ${digest}`);
    return true;
  }

  /** Cross-repository mount (spec.md "Mounting a blob from another repository"): the upload location when the registry did not mount. */
  async mountBlob(repo: string, digest: string, from: string): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const res = await this.request({
      method: 'POST',
      path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      headers: { 'content-length': '0' },
      scopes: [`repository:${repo}:pull,push`, `repository:${from}:pull`],
    });
    if (res.status === 201) {
      discard(res);
      return { mounted: true };
    }
    await this.expect(res, [202], `mounting ${digest} from ${from}`);
    discard(res);
    return { mounted: false, location: this.location(res) };
  }

  async startUpload(repo: string): Promise<string> {
    const res = await this.request({ method: 'POST', path: `/v2/${repo}/blobs/uploads/`, headers: { 'content-length': '0' }, scopes: [`repository:${repo}:pull,push`] });
    await this.expect(res, [202], `starting an upload to ${this.domain}/${repo}`);
    discard(res);
    return this.location(res);
  }

  private location(res: HttpResponse): string {
    const loc = header(res, 'location');
    if (!loc) throw unavailable(`${this.domain} started an upload without a Location`);
    return new URL(loc, res.url).toString();
  }

  /** Monolithic upload: PUT the whole blob to the session with ?digest= (spec.md "Single POST then PUT"). */
  async putBlob(repo: string, location: string, desc: { digest: string; size: number }, body: () => Readable): Promise<void> {
    const u = new URL(location);
    u.searchParams.set('digest', desc.digest);
    const res = await this.request({
      method: 'PUT', path: u.toString(), body,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
      scopes: [`repository:${repo}:pull,push`],
    });
    await this.expect(res, [201, 204], `uploading blob ${desc.digest}`);
    discard(res);
  }

  /** One chunk of a chunked upload (PATCH with Content-Range, inclusive); returns the next location. */
  async patchChunk(repo: string, location: string, start: number, chunk: Buffer): Promise<string> {
    const res = await this.request({
      method: 'PATCH', path: location, body: chunk,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(chunk.length), 'content-range': `${start}-${start + chunk.length - 1}` },
      scopes: [`repository:${repo}:pull,push`],
    });
    await this.expect(res, [202], `uploading a chunk at ${start}`);
    discard(res);
    return this.location(res);
  }

  /** Closes a chunked upload with the whole blob's digest. */
  async finishUpload(repo: string, location: string, digest: string): Promise<void> {
    const u = new URL(location);
    u.searchParams.set('digest', digest);
    const res = await this.request({ method: 'PUT', path: u.toString(), headers: { 'content-length': '0' }, body: Buffer.alloc(0), scopes: [`repository:${repo}:pull,push`] });
    await this.expect(res, [201, 204], `finishing the upload of ${digest}`);
    discard(res);
  }

  /** PUT a manifest under a tag or digest; Content-Type is its media type and the bytes are sent as stored. */
  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.request({
      method: 'PUT', path: `/v2/${repo}/manifests/${reference}`, body: bytes,
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
      scopes: [`repository:${repo}:pull,push`],
    });
    await this.expect(res, [201, 200, 202], `pushing manifest ${this.domain}/${repo}:${reference}`);
    discard(res);
    const digest = sha256Digest(bytes);
    const claimed = header(res, 'docker-content-digest');
    if (claimed && isSha256Digest(claimed) && claimed !== digest) throw unavailable(`${this.domain} stored the manifest under ${claimed}, not ${digest}`);
    return digest;
  }

  /** GET /v2/ with the stored credential: whether the registry accepts it (`silo login`). */
  async ping(): Promise<void> {
    const res = await this.request({ method: 'GET', path: '/v2/', scopes: [] });
    await this.expect(res, [200], `logging in to ${this.domain}`);
    discard(res);
  }
}
