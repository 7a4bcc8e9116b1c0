// POST /build (the classic builder API `docker build` uses with DOCKER_BUILDKIT=0): the tar context is
// unpacked with the engine's safe layer extraction into a private temp directory, then BuildService
// builds it; its events become Docker's {"stream"} / {"aux"} / {"error"} messages.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { invalidArgument, notImplemented } from '../errors';
import { decompressStream } from '../layers/compression';
import { extractLayer } from '../layers/extract';
import type { SpecialFiles } from '../layers/special';
import type { BuildEvent } from '../protocol';
import { errorResponse, queryBool } from './http';
import { route, type Ctx, type Route } from './router';

/** A build context holds files, directories and links: device nodes and xattrs are refused or dropped. */
const contextFiles: SpecialFiles = {
  mknod: (p) => {
    throw invalidArgument(`the build context holds a device or FIFO (${path.basename(p)}), which a build cannot use`);
  },
  lsetxattr: () => {},
  lgetxattr: () => undefined,
  llistxattr: () => [],
};

function jsonMap(raw: string | null, what: string): Record<string, string> | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as Record<string, string | null>;
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null)) as Record<string, string>;
  } catch {
    throw invalidArgument(`${what} is not a JSON object`);
  }
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

function eventLines(e: BuildEvent): string[] {
  switch (e.kind) {
    case 'step':
      return [`Step ${e.step.step}/${e.step.total} : ${e.step.instruction}\n`];
    case 'cache':
      return e.cached ? [' ---> Using cache\n'] : [];
    case 'container':
      return [` ---> Running in ${short(e.id)}\n`];
    case 'output':
      return [e.text];
    case 'removed':
      return [`Removing intermediate container ${short(e.id)}\n`];
    case 'image':
      return [` ---> ${short(e.id)}\n`];
    case 'warning':
      return [`[Warning] ${e.text}\n`];
  }
}

async function build(ctx: Ctx) {
  const q = ctx.query;
  if (q.get('remote')) throw notImplemented('building from a remote context is not supported by Silo', 'send the context as a tar (docker build DIR)');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'silo-build-'));
  try {
    await fs.chmod(dir, 0o700);
    const ctxDir = path.join(dir, 'context');
    await fs.mkdir(ctxDir);
    await extractLayer(await decompressStream(ctx.input), ctxDir, { special: contextFiles, whiteouts: 'apply' });
    const dockerfileName = q.get('dockerfile') || 'Dockerfile';
    if (path.isAbsolute(dockerfileName) || dockerfileName.split(/[\\/]/).includes('..')) throw invalidArgument(`the Dockerfile path "${dockerfileName}" must be inside the context`);
    const tags = q.getAll('t');
    const quiet = queryBool(q, 'q');
    const out = ctx.reply.stream(200, 'application/json');
    const send = (obj: unknown) => out.write(JSON.stringify(obj) + '\n');
    const ac = new AbortController();
    ctx.reply.closed.addEventListener('abort', () => ac.abort(), { once: true });
    try {
      const result = await ctx.engine.builds.build(
        {
          context: ctxDir,
          dockerfile: path.join(ctxDir, dockerfileName),
          tags,
          target: q.get('target') || undefined,
          buildArgs: jsonMap(q.get('buildargs'), 'buildargs'),
          labels: jsonMap(q.get('labels'), 'labels'),
          noCache: queryBool(q, 'nocache'),
          pull: queryBool(q, 'pull'),
        },
        (e) => {
          if (!quiet) for (const line of eventLines(e)) send({ stream: line });
        },
        ac.signal,
      );
      send({ aux: { ID: result.id } });
      if (quiet) send({ stream: `${result.id}\n` });
      else {
        send({ stream: `Successfully built ${short(result.id)}\n` });
        for (const t of result.tags) send({ stream: `Successfully tagged ${t}\n` });
      }
    } catch (err) {
      const { message } = errorResponse(err);
      send({ errorDetail: { message }, error: message });
    }
    out.end();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export const buildRoutes: Route[] = [route('POST', '/build', build), route('POST', '/build/prune', (ctx) => ctx.reply.json(200, { CachesDeleted: null, SpaceReclaimed: 0 }))];
