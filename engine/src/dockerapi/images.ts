// Image routes: list, inspect, history, tag, remove, save (get), load, import (create fromSrc) — each
// one call into ImageService. Pull, push, build, commit and search answer "not supported yet" until
// the registry client and the builder land in the service layer.
import { Writable } from 'node:stream';
import { invalidArgument, notImplemented } from '../errors';
import { IMAGE_FILTERS, labelMatches, matchAll, refMatches } from '../service/filters';
import { parseFilters } from './filters';
import { queryBool } from './http';
import { route, type Ctx, type Route } from './router';
import { pull } from './distribution';


async function list(ctx: Ctx) {
  const filters = parseFilters(ctx.query.get('filters'), IMAGE_FILTERS);
  const dangling = filters.get('dangling')?.[0];
  const rows = await ctx.engine.images.list({ all: queryBool(ctx.query, 'all'), dangling: dangling === undefined ? undefined : dangling === 'true' || dangling === '1' });
  const byId = new Map<string, { row: (typeof rows)[number]; tags: string[]; digests: string[] }>();
  for (const r of rows) {
    let e = byId.get(r.id);
    if (!e) byId.set(r.id, (e = { row: r, tags: [], digests: [] }));
    if (r.tag !== '<none>') e.tags.push(`${r.repository}:${r.tag}`);
    if (r.digest !== '<none>') e.digests.push(`${r.repository}@${r.digest}`);
  }
  const out = [];
  for (const { row, tags, digests } of byId.values()) {
    const needLabels = filters.has('label');
    const labels = needLabels ? ((await ctx.engine.images.inspect(row.id)).Config?.Labels as Record<string, string> | null) ?? {} : undefined;
    const ok = matchAll(filters, (name, v) => {
      if (name === 'dangling') return true;
      if (name === 'label') return labelMatches(labels, v);
      if (name === 'reference') return tags.some((t) => refMatches(v, t));
      return false;
    });
    if (!ok) continue;
    // Docker lists only the names that match a reference filter (moby daemon/images/images.go).
    const refs = filters.get('reference');
    if (refs) tags.splice(0, tags.length, ...tags.filter((t) => refs.some((v) => refMatches(v, t))));
    out.push({
      Id: row.id,
      ParentId: '',
      RepoTags: tags.length ? tags : ['<none>:<none>'],
      RepoDigests: digests.length ? [...new Set(digests)] : ['<none>@<none>'],
      Created: Math.floor(Date.parse(row.created) / 1000),
      Size: row.size,
      VirtualSize: row.size,
      SharedSize: -1,
      Labels: labels ?? null,
      Containers: -1,
    });
  }
  ctx.reply.json(200, out);
}

/**
 * POST /images/prune: untagged images (or, with dangling=false, every image) no container uses, then the
 * blobs and layers nothing refers to any more (moby daemon/images/image_prune.go). SpaceReclaimed counts
 * the freed blobs, as ImageService.prune measures them.
 */
async function prune(ctx: Ctx) {
  const filters = parseFilters(ctx.query.get('filters'), ['dangling']);
  const d = filters.get('dangling')?.[0];
  const danglingOnly = d === undefined || d === 'true' || d === '1';
  const deleted: Array<{ Untagged?: string; Deleted?: string }> = [];
  const seen = new Set<string>();
  for (const row of await ctx.engine.images.list(danglingOnly ? { dangling: true } : {})) {
    if (seen.has(row.id)) continue;
    seen.add(row.id);
    if (await ctx.engine.containers.usesImage(row.id)) continue;
    for (const r of await ctx.engine.images.remove(row.id, { force: !danglingOnly })) deleted.push(r);
  }
  const report = await ctx.engine.images.prune(await ctx.engine.containers.parentChainIDs());
  ctx.reply.json(200, { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: report.bytes });
}

async function inspect(ctx: Ctx) {
  ctx.reply.json(200, await ctx.engine.images.inspect(ctx.params[0]));
}

async function history(ctx: Ctx) {
  ctx.reply.json(200, await ctx.engine.images.history(ctx.params[0]));
}

async function tag(ctx: Ctx) {
  const repo = ctx.query.get('repo');
  if (!repo) throw invalidArgument('repository name must have at least one component');
  const t = ctx.query.get('tag');
  await ctx.engine.images.tag(ctx.params[0], t ? `${repo}:${t}` : repo);
  ctx.reply.empty(201);
}

async function remove(ctx: Ctx) {
  ctx.reply.json(200, await ctx.engine.images.remove(ctx.params[0], { force: queryBool(ctx.query, 'force') }));
}

/** GET /images/get?names=... and /images/{name}/get: the tarball streams once the first byte exists, so a bad name is still a clean 404. */
async function save(ctx: Ctx, names: string[]) {
  if (!names.length) throw invalidArgument('name at least one image to save');
  let out: Writable | undefined;
  const sink = new Writable({
    write(chunk, _enc, cb) {
      out ??= ctx.reply.stream(200, 'application/x-tar');
      if (out.write(chunk)) cb();
      else out.once('drain', () => cb());
    },
  });
  await ctx.engine.images.save(names, sink);
  (out ?? ctx.reply.stream(200, 'application/x-tar')).end();
}

async function load(ctx: Ctx) {
  const loaded = await ctx.engine.images.load(ctx.input);
  const out = ctx.reply.stream(200, 'application/json');
  // `docker load -q` prints these lines too (moby daemon/images/image_exporter.go).
  for (const l of loaded) {
    if (l.names.length) for (const n of l.names) out.write(JSON.stringify({ stream: `Loaded image: ${n}\n` }) + '\n');
    else out.write(JSON.stringify({ stream: `Loaded image ID: ${l.id}\n` }) + '\n');
  }
  out.end();
}

/** POST /images/create: `fromSrc=-` is `docker import` (the body is the tar); `fromImage` is a pull. */
async function createImage(ctx: Ctx) {
  const q = ctx.query;
  const fromSrc = q.get('fromSrc');
  if (fromSrc !== null) {
    if (fromSrc !== '-') throw notImplemented('importing from a URL is not supported by Silo', 'download the tar and import it from stdin');
    const repo = q.get('repo') ?? '';
    const t = q.get('tag') ?? '';
    const ref = repo ? (t ? `${repo}:${t}` : repo) : undefined;
    const changes = q.getAll('changes');
    const { id } = await ctx.engine.images.importRootfs(ctx.input, { ref, message: q.get('message') ?? undefined, changes });
    const out = ctx.reply.stream(200, 'application/json');
    out.end(JSON.stringify({ status: id }) + '\n');
    return;
  }
  const fromImage = q.get('fromImage');
  if (!fromImage) throw invalidArgument('give fromImage (pull) or fromSrc (import)');
  await pull(ctx, fromImage);
}

/** POST /commit?container=&repo=&tag=&comment=&author=&changes= (docker commit), through Engine.commit. */
async function commit(ctx: Ctx) {
  const q = ctx.query;
  const container = q.get('container');
  if (!container) throw invalidArgument('give the container to commit');
  const body = await ctx.json<Record<string, unknown>>();
  if (body && Object.values(body).some((v) => v !== null && v !== '' && v !== false && !(Array.isArray(v) && !v.length) && !(typeof v === 'object' && !Object.keys(v as object).length))) {
    throw notImplemented('a config in the commit request body is not supported by Silo', 'use --change instructions');
  }
  // `pause` is accepted and not acted on: Silo reads the writable snapshot as it is (no cgroup freezer yet).
  const repo = q.get('repo') ?? '';
  const t = q.get('tag') ?? '';
  const ref = repo ? (t ? `${repo}:${t}` : repo) : undefined;
  const { id } = await ctx.engine.commit(container, { ref, message: q.get('comment') ?? undefined, author: q.get('author') ?? undefined, changes: q.getAll('changes') });
  ctx.reply.json(201, { Id: id });
}

function notYet(what: string, hint?: string) {
  return () => {
    throw notImplemented(`${what} is not supported by Silo yet`, hint);
  };
}

export const imageRoutes: Route[] = [
  route('GET', '/images/json', list),
  route('GET', '/images/get', (ctx) => save(ctx, ctx.query.getAll('names'))),
  route('GET', '/images/search', notYet('searching a registry')),
  route('POST', '/images/load', load),
  route('POST', '/images/create', createImage),
  route('POST', '/images/prune', prune),
  route('GET', '/images/{*}/json', inspect),
  route('GET', '/images/{*}/history', history),
  route('GET', '/images/{*}/get', (ctx) => save(ctx, [ctx.params[0]])),
  route('POST', '/images/{*}/tag', tag),
  route('DELETE', '/images/{*}', remove),
  route('POST', '/commit', commit),
];
