// Exec routes. Docker splits an exec into create (remember the config), start (run it, hijacked) and
// inspect (its exit code); ContainerService.exec runs one, so create only records what to run.
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { failedPrecondition, invalidArgument, notFound } from '../errors';
import type { MonitorConnection } from '../runtime/monitor';
import type { ExecOptions } from '../service/containers';
import { errorResponse, queryInt } from './http';
import { route, type Ctx, type Route } from './router';
import { frame, MULTIPLEXED_STREAM, RAW_STREAM, StdStream } from './stdcopy';

interface ExecEntry {
  id: string;
  containerId: string;
  opts: ExecOptions;
  attach: { stdout: boolean; stderr: boolean };
  running: boolean;
  exitCode: number | null;
  pid: number;
  control?: MonitorConnection;
  created: number;
  /** Started (start came); `running` is set once the process runs. */
  started?: boolean;
  /** A resize that came while the process was being launched: applied once its monitor answers. */
  pendingSize?: { rows: number; cols: number };
  /** Wakes a start that waits for the terminal's first size. */
  sized?: () => void;
}

/**
 * How long a tty exec with no size waits for the client's first resize before it runs anyway. Below
 * API 1.42 the docker CLI sends no ConsoleSize and resizes only after the start is hijacked; a process
 * started before that sees a 0x0 terminal (`stty size` fails). crun applies process.json's consoleSize
 * itself (crun container.c, libcrun_terminal_setup_size on the exec tty), so the size must be known
 * before the process starts. The CLI's resize follows the 101 within milliseconds; a client that
 * never resizes (stdin not a terminal) pays this once.
 */
const FIRST_SIZE_WAIT_MS = 500;

/** Execs by Docker exec id; dropped an hour after they end (Docker forgets them with the container). */
const execs = new Map<string, ExecEntry>();

function forgetOld() {
  const cutoff = Date.now() - 3600_000;
  for (const [k, e] of execs) if (!e.running && e.created < cutoff) execs.delete(k);
}

const EXEC_FIELDS = ['Detach', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'DetachKeys', 'Tty', 'Env', 'Cmd', 'Privileged', 'User', 'WorkingDir', 'ConsoleSize'];

async function create(ctx: Ctx) {
  const body = (await ctx.json<Record<string, unknown>>()) ?? {};
  for (const k of Object.keys(body)) if (!EXEC_FIELDS.includes(k)) throw invalidArgument(`unknown field "${k}" in the exec configuration`);
  if (body.Privileged === true) throw invalidArgument('privileged exec is not supported by Silo');
  const cmd = body.Cmd;
  if (!Array.isArray(cmd) || !cmd.length || !cmd.every((c) => typeof c === 'string')) throw invalidArgument('No exec command specified');
  const rec = await ctx.engine.containers.resolve(ctx.params[0]);
  if (rec.state.status !== 'running') throw failedPrecondition(`Container ${rec.id} is not running`);
  forgetOld();
  const id = randomBytes(32).toString('hex');
  const size = Array.isArray(body.ConsoleSize) && body.ConsoleSize[0] ? { rows: Number(body.ConsoleSize[0]), cols: Number(body.ConsoleSize[1]) } : undefined;
  execs.set(id, {
    id,
    containerId: rec.id,
    opts: {
      cmd: cmd as string[],
      tty: body.Tty === true,
      stdin: body.AttachStdin === true,
      env: (body.Env as string[] | null) ?? undefined,
      user: (body.User as string) || undefined,
      workingDir: (body.WorkingDir as string) || undefined,
      consoleSize: size,
    },
    attach: { stdout: body.AttachStdout !== false, stderr: body.AttachStderr !== false },
    running: false,
    exitCode: null,
    pid: 0,
    created: Date.now(),
  });
  ctx.reply.json(201, { Id: id });
}

function entry(id: string): ExecEntry {
  const e = execs.get(id);
  if (!e) throw notFound(`No such exec instance: ${id}`);
  return e;
}

async function start(ctx: Ctx) {
  const e = entry(ctx.params[0]);
  const body = (await ctx.json<{ Detach?: boolean; Tty?: boolean; ConsoleSize?: number[] }>()) ?? {};
  if (e.started || e.running || e.exitCode !== null) throw failedPrecondition(`exec ${e.id} has already been started`);
  e.started = true;
  if (body.ConsoleSize?.[0]) e.opts.consoleSize = { rows: body.ConsoleSize[0], cols: body.ConsoleSize[1] };
  const tty = e.opts.tty === true;
  // A terminal with no size yet: answer 101 first so the client sends its size, then start.
  let early: Duplex | undefined;
  if (tty && !body.Detach && !e.opts.consoleSize) {
    early = ctx.reply.hijack(RAW_STREAM);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, FIRST_SIZE_WAIT_MS);
      e.sized = () => {
        clearTimeout(t);
        resolve();
      };
    });
    e.sized = undefined;
  }
  e.running = true;
  let session;
  try {
    session = await ctx.engine.containers.exec(e.containerId, e.opts);
  } catch (err) {
    e.running = false;
    e.exitCode = 126;
    if (!early) throw err;
    // Already hijacked: the error goes in the stream, as dockerd writes it (moby api/server/router/container/exec.go).
    early.end(`${errorResponse(err).message}\r\n`);
    return;
  }
  e.control = session.control;
  if (e.pendingSize) e.control?.resize(e.pendingSize.rows, e.pendingSize.cols);
  void session.exited.then((x) => {
    e.running = false;
    e.exitCode = x.exitCode;
    e.control = undefined;
  });
  if (body.Detach) {
    void (async () => {
      for await (const _ of session.output()) void _;
    })();
    return ctx.reply.empty(200);
  }
  const sock = early ?? ctx.reply.hijack(tty ? RAW_STREAM : MULTIPLEXED_STREAM);
  const ac = new AbortController();
  sock.on('close', () => ac.abort());
  sock.on('error', () => ac.abort());
  if (e.opts.stdin && session.control) {
    const c = session.control;
    sock.on('data', (d: Buffer) => c.writeStdin(d));
    sock.on('end', () => c.closeStdin());
  } else sock.resume();
  try {
    for await (const line of session.output(ac.signal)) {
      if (line.stream === 'stdout' ? !e.attach.stdout : !e.attach.stderr) continue;
      const data = Buffer.from(line.log, 'utf8');
      if (!sock.write(tty ? data : frame(line.stream === 'stdout' ? StdStream.Stdout : StdStream.Stderr, data))) await new Promise((r) => sock.once('drain', r));
    }
    await session.exited;
  } finally {
    session.control?.close();
    sock.end();
  }
}

async function resize(ctx: Ctx) {
  const e = entry(ctx.params[0]);
  const h = queryInt(ctx.query, 'h') ?? 0;
  const w = queryInt(ctx.query, 'w') ?? 0;
  if (e.control) e.control.resize(h, w);
  else if (!e.running) e.opts.consoleSize = { rows: h, cols: w }; // before the process: its process.json consoleSize
  else e.pendingSize = { rows: h, cols: w }; // while it is being launched
  e.sized?.();
  ctx.reply.empty(200);
}

async function inspect(ctx: Ctx) {
  const e = entry(ctx.params[0]);
  ctx.reply.json(200, {
    ID: e.id,
    Running: e.running,
    ExitCode: e.exitCode,
    ProcessConfig: { tty: e.opts.tty === true, entrypoint: e.opts.cmd[0], arguments: e.opts.cmd.slice(1), privileged: false, user: e.opts.user ?? '' },
    OpenStdin: e.opts.stdin === true,
    OpenStderr: e.attach.stderr,
    OpenStdout: e.attach.stdout,
    CanRemove: false,
    ContainerID: e.containerId,
    DetachKeys: '',
    Pid: e.pid,
  });
}

export const execRoutes: Route[] = [
  route('POST', '/containers/{}/exec', create),
  route('POST', '/exec/{}/start', start),
  route('POST', '/exec/{}/resize', resize),
  route('GET', '/exec/{}/json', inspect),
];
