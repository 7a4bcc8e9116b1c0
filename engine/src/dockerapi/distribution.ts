// Pull (POST /images/create?fromImage=), push (POST /images/{name}/push) and login (POST /auth) through
// the service's DistributionService, with Docker's JSON progress messages. Credentials are the
// service's store (`docker login` through this API writes it), unless the request carries its own in
// X-Registry-Auth (used for that request only, never stored or logged).
import type { IncomingMessage } from 'node:http';
import { invalidArgument } from '../errors';
import { normalizeReference } from '../image/reference';
import { layerStatus, PROGRESS_PHASES, PULL_STATUS, PUSH_STATUS } from '../protocol/format';
import type { LayerProgress, PushProgress, RequestAuth } from '../service/distribution';
import { errorResponse } from './http';
import { route, type Ctx, type Route } from './router';

// Every phase has docker's words (the shared tables cover the service's phase types).
const PULL_WORDS: Record<LayerProgress['phase'], string> = PULL_STATUS;
const PUSH_WORDS: Record<PushProgress['phase'], string> = PUSH_STATUS;

/**
 * Only the moving phases (PROGRESS_PHASES) carry progressDetail: the docker CLI hides a message with
 * progress when its output is not a terminal, so a final "Pushed" with a byte count would never be
 * printed (moby sends progress.Update(out, id, "Pushed"), with an empty detail).
 */
function progressLine(status: string, p: { id: string; phase: string; current?: number; total?: number }): string {
  const detail = PROGRESS_PHASES.has(p.phase) && p.current !== undefined ? { current: p.current, ...(p.total ? { total: p.total } : {}) } : {};
  return JSON.stringify({ status, progressDetail: detail, id: p.id }) + '\n';
}

/**
 * X-Registry-Auth: base64url JSON {username, password, serveraddress} or {identitytoken} (moby
 * registry.DecodeAuthConfig; the docker CLI sends "e30=", i.e. {}, when it has none). Unreadable is
 * refused without echoing it.
 */
export function registryAuth(req: IncomingMessage): RequestAuth | undefined {
  const raw = req.headers['x-registry-auth'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return undefined;
  let parsed: { username?: unknown; password?: unknown; serveraddress?: unknown; identitytoken?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as typeof parsed;
  } catch {
    throw invalidArgument('the X-Registry-Auth header is not base64url-encoded JSON', 'send {"username","password","serveraddress"} encoded as base64url');
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const auth: RequestAuth = {
    ...(str(parsed.username) ? { username: str(parsed.username) } : {}),
    ...(str(parsed.password) ? { password: str(parsed.password) } : {}),
    ...(str(parsed.identitytoken) ? { identityToken: str(parsed.identitytoken) } : {}),
    ...(str(parsed.serveraddress) ? { serveraddress: str(parsed.serveraddress) } : {}),
  };
  return auth.password || auth.identityToken ? auth : undefined;
}

/** Errors after the stream started go in the stream, as Docker's do: {"errorDetail":{"message"},"error"}. */
function streamError(err: unknown): string {
  const { message } = errorResponse(err);
  return JSON.stringify({ errorDetail: { message }, error: message }) + '\n';
}

function repositoryPath(image: string): string {
  try {
    return normalizeReference(image).path;
  } catch {
    return image; // the pull itself says what is wrong with it
  }
}

export async function pull(ctx: Ctx, image: string) {
  const tag = ctx.query.get('tag');
  const ref = tag ? (tag.startsWith('sha256:') ? `${image}@${tag}` : `${image}:${tag}`) : image;
  const requestAuth = registryAuth(ctx.req);
  const out = ctx.reply.stream(200, 'application/json');
  const ac = new AbortController();
  ctx.reply.closed.addEventListener('abort', () => ac.abort(), { once: true });
  try {
    // moby names the repository by its path in the registry: "library/busybox", "team/app".
    out.write(JSON.stringify({ status: `Pulling from ${repositoryPath(image)}`, id: tag || 'latest' }) + '\n');
    const r = await ctx.engine.distribution.pull(ref, {
      platform: ctx.query.get('platform') || undefined,
      auth: requestAuth,
      signal: ac.signal,
      onProgress: (p) => out.write(progressLine(layerStatus(PULL_WORDS, p), p)),
    });
    out.write(JSON.stringify({ status: `Digest: ${r.digest}` }) + '\n');
    out.write(JSON.stringify({ status: r.status === 'downloaded' ? `Status: Downloaded newer image for ${ref}` : `Status: Image is up to date for ${ref}` }) + '\n');
  } catch (err) {
    out.write(streamError(err));
  }
  out.end();
}

async function push(ctx: Ctx) {
  const tag = ctx.query.get('tag');
  const ref = tag ? `${ctx.params[0]}:${tag}` : ctx.params[0];
  const requestAuth = registryAuth(ctx.req);
  const out = ctx.reply.stream(200, 'application/json');
  const ac = new AbortController();
  ctx.reply.closed.addEventListener('abort', () => ac.abort(), { once: true });
  try {
    out.write(JSON.stringify({ status: `The push refers to repository [${ctx.params[0]}]` }) + '\n');
    const r = await ctx.engine.distribution.push(ref, { auth: requestAuth, signal: ac.signal, onProgress: (p) => out.write(progressLine(layerStatus(PUSH_WORDS, p), p)) });
    out.write(JSON.stringify({ status: `${r.tag}: digest: ${r.digest} size: ${r.size}` }) + '\n');
    out.write(JSON.stringify({ progressDetail: {}, aux: { Tag: r.tag, Digest: r.digest, Size: r.size } }) + '\n');
  } catch (err) {
    out.write(streamError(err));
  }
  out.end();
}

async function auth(ctx: Ctx) {
  const body = await ctx.json<{ username?: string; password?: string; serveraddress?: string; identitytoken?: string }>();
  if (!body) throw invalidArgument('the login request needs a JSON body with username and password');
  if (body.identitytoken) throw invalidArgument('identity tokens are not supported by Silo', 'log in with a username and password');
  await ctx.engine.distribution.login(body.serveraddress, body.username ?? '', body.password ?? '');
  ctx.reply.json(200, { Status: 'Login Succeeded', IdentityToken: '' });
}

export const distributionRoutes: Route[] = [route('POST', '/auth', auth), route('POST', '/images/{*}/push', push)];
