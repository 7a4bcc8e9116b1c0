// GET/PUT/HEAD /containers/{id}/archive, for `docker cp`.
//
// Decision: the copy runs INSIDE the container, through ContainerService.exec of the container's own
// `tar` (and `stat`), never by joining a user's path onto a host directory. The container's kernel view
// resolves every path and symlink within the container's root, so `docker cp` cannot reach the host,
// whatever links the container holds. Costs: the container must be running and have tar, stat and
// base64 (busybox and every distribution image do; Docker itself needs neither). Exec output is
// recorded as text lines by the monitor, so the way out is base64 and decoded here; the way in is the
// exec's stdin, which carries bytes as they are.
import { failedPrecondition, invalidArgument, notFound, SiloError } from '../errors';
import type { Engine } from '../service/engine';
import { route, type Ctx, type Route } from './router';

interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function run(engine: Engine, id: string, cmd: string[], input?: AsyncIterable<Buffer>): Promise<ExecResult> {
  const session = await engine.containers.exec(id, { cmd, stdin: !!input });
  if (input && session.control) {
    const c = session.control;
    void (async () => {
      for await (const chunk of input) c.writeStdin(chunk);
      c.closeStdin();
    })().catch(() => c.closeStdin());
  }
  const out: string[] = [];
  const err: string[] = [];
  for await (const line of session.output()) (line.stream === 'stdout' ? out : err).push(line.log);
  const exit = await session.exited;
  return { exitCode: exit.exitCode, stdout: out.join(''), stderr: err.join('') };
}

async function runningContainer(ctx: Ctx): Promise<string> {
  const rec = await ctx.engine.containers.resolve(ctx.params[0]);
  if (rec.state.status !== 'running') {
    throw failedPrecondition(`copying files needs a running container in Silo: ${rec.name} is ${rec.state.status}`, 'start it first (Silo copies through the container\'s own tar)');
  }
  return rec.id;
}

function pathParam(ctx: Ctx): string {
  const p = ctx.query.get('path');
  if (!p) throw invalidArgument('path is required');
  if (p.includes('\0')) throw invalidArgument('the path holds a NUL byte');
  return p.startsWith('/') ? p : `/${p}`;
}

const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;

/** The X-Docker-Container-Path-Stat header: base64 JSON of moby's PathStat, mode as Go's os.FileMode. */
async function statHeader(engine: Engine, id: string, p: string): Promise<{ header: string; isDir: boolean }> {
  const r = await run(engine, id, ['stat', '-c', '%s|%f|%Y', '--', p]);
  if (r.exitCode !== 0) {
    if (/no such file|can't stat|cannot stat/i.test(r.stderr)) throw notFound(`Could not find the file ${p} in container ${id.slice(0, 12)}`);
    throw new SiloError('Internal', `stat ${p} in the container failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
  }
  const [size, rawHex, mtime] = r.stdout.trim().split('|');
  const raw = parseInt(rawHex, 16);
  const type = raw & 0o170000;
  const mode = (raw & 0o777) + (type === 0o040000 ? MODE_DIR : 0) + (type === 0o120000 ? MODE_SYMLINK : 0);
  const name = p === '/' ? '/' : p.replace(/\/+$/, '').split('/').pop()!;
  const json = { name, size: Number(size), mode, mtime: new Date(Number(mtime) * 1000).toISOString(), linkTarget: '' };
  return { header: Buffer.from(JSON.stringify(json)).toString('base64'), isDir: type === 0o040000 };
}

async function head(ctx: Ctx) {
  const id = await runningContainer(ctx);
  const { header } = await statHeader(ctx.engine, id, pathParam(ctx));
  ctx.reply.empty(200, { 'X-Docker-Container-Path-Stat': header, 'Content-Type': 'application/x-tar' });
}

async function get(ctx: Ctx) {
  const id = await runningContainer(ctx);
  const p = pathParam(ctx);
  const { header } = await statHeader(ctx.engine, id, p);
  const trimmed = p.length > 1 ? p.replace(/\/+$/, '') : p;
  const dir = trimmed.slice(0, trimmed.lastIndexOf('/')) || '/';
  const base = trimmed === '/' ? '.' : trimmed.slice(trimmed.lastIndexOf('/') + 1);
  // Paths are arguments of sh, never part of its script.
  const r = await run(ctx.engine, id, ['sh', '-c', 'tar cf - -C "$1" -- "$2" | base64', 'sh', dir, base]);
  if (r.exitCode !== 0) throw new SiloError('Internal', `tar in the container failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`, 'the image needs tar and base64 for docker cp');
  const tar = Buffer.from(r.stdout.replace(/\s+/g, ''), 'base64');
  ctx.reply.stream(200, 'application/x-tar', { 'X-Docker-Container-Path-Stat': header, 'Content-Length': String(tar.length) }).end(tar);
}

async function put(ctx: Ctx) {
  const id = await runningContainer(ctx);
  const p = pathParam(ctx);
  const { isDir } = await statHeader(ctx.engine, id, p);
  if (!isDir) throw invalidArgument(`extraction point is not a directory: ${p}`);
  const r = await run(ctx.engine, id, ['tar', 'xf', '-', '-C', p], ctx.input);
  if (r.exitCode !== 0) throw new SiloError('InvalidArgument', `extracting the archive in the container failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
  ctx.reply.empty(200);
}

export const archiveRoutes: Route[] = [
  route('HEAD', '/containers/{}/archive', head),
  route('GET', '/containers/{}/archive', get),
  route('PUT', '/containers/{}/archive', put),
];
