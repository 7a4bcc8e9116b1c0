// Pull (POST /images/create?fromImage=), push (POST /images/{name}/push) and login (POST /auth) through
// the service's DistributionService, with Docker's JSON progress messages. Credentials are the
// service's store (`docker login` through this API writes it); X-Registry-Auth is not consulted.
import { invalidArgument } from '../errors';
import type { LayerProgress, PushProgress } from '../service/distribution';
import { errorResponse } from './http';
import { route, type Ctx, type Route } from './router';

const PULL_STATUS: Record<LayerProgress['phase'], string> = {
  waiting: 'Waiting',
  downloading: 'Downloading',
  verifying: 'Verifying Checksum',
  extracting: 'Extracting',
  complete: 'Pull complete',
  exists: 'Already exists',
};

const PUSH_STATUS: Record<PushProgress['phase'], string> = {
  preparing: 'Preparing',
  waiting: 'Waiting',
  pushing: 'Pushing',
  pushed: 'Pushed',
  exists: 'Layer already exists',
  mounted: 'Mounted from another repository',
};

function progressLine(status: string, p: { id: string; current?: number; total?: number }): string {
  const detail = p.current !== undefined ? { current: p.current, ...(p.total ? { total: p.total } : {}) } : {};
  return JSON.stringify({ status, progressDetail: detail, id: p.id }) + '\n';
}

/** Errors after the stream started go in the stream, as Docker's do: {"errorDetail":{"message"},"error"}. */
function streamError(err: unknown): string {
  const { message } = errorResponse(err);
  return JSON.stringify({ errorDetail: { message }, error: message }) + '\n';
}

export async function pull(ctx: Ctx, image: string) {
  const tag = ctx.query.get('tag');
  const ref = tag ? (tag.startsWith('sha256:') ? `${image}@${tag}` : `${image}:${tag}`) : image;
  const out = ctx.reply.stream(200, 'application/json');
  const ac = new AbortController();
  ctx.reply.closed.addEventListener('abort', () => ac.abort(), { once: true });
  try {
    out.write(JSON.stringify({ status: `Pulling from ${image}`, id: tag || 'latest' }) + '\n');
    const r = await ctx.engine.distribution.pull(ref, {
      platform: ctx.query.get('platform') || undefined,
      signal: ac.signal,
      onProgress: (p) => out.write(progressLine(PULL_STATUS[p.phase] ?? p.phase, p)),
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
  const out = ctx.reply.stream(200, 'application/json');
  const ac = new AbortController();
  ctx.reply.closed.addEventListener('abort', () => ac.abort(), { once: true });
  try {
    out.write(JSON.stringify({ status: `The push refers to repository [${ctx.params[0]}]` }) + '\n');
    const r = await ctx.engine.distribution.push(ref, { signal: ac.signal, onProgress: (p) => out.write(progressLine(PUSH_STATUS[p.phase] ?? p.phase, p)) });
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
