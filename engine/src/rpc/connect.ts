// Reaching the engine of a data root from the CLI or the editor: connect to its socket, or start
// one (detached, so it outlives its starter) and connect once it listens.
import { spawn } from 'node:child_process';
import { openSync, promises as fs, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createMessageConnection, SocketMessageReader, SocketMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { SiloError, unavailable } from '../errors';
import { engineSocketPath } from './paths';

/** Linux: /var/lib/silo as root, $XDG_DATA_HOME/silo otherwise; Windows: %ProgramData%\silo. SILO_ROOT overrides. */
export function defaultDataRoot(env = process.env): string {
  if (env.SILO_ROOT) return path.resolve(env.SILO_ROOT);
  if (process.platform === 'win32') return path.join(env.ProgramData ?? 'C:\\ProgramData', 'silo');
  if (process.getuid?.() === 0) return '/var/lib/silo';
  return path.join(env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), 'silo');
}

function trySocket(socketPath: string): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(undefined));
  });
}

export interface ConnectOptions {
  /** Start an engine when none answers (default true). */
  autoStart?: boolean;
  /** The script that runs `silo engine` (the CLI bundle); defaults to this process's main script. */
  engineScript?: string;
  /** How long to wait for a started engine to listen. */
  timeoutMs?: number;
}

export async function connectEngine(root: string, opts: ConnectOptions = {}): Promise<MessageConnection> {
  const socketPath = engineSocketPath(root);
  let socket = await trySocket(socketPath);
  if (!socket) {
    if (opts.autoStart === false) throw unavailable(`no engine is running for ${root}`, 'start one with `silo engine`');
    socket = await startEngine(root, socketPath, opts);
  }
  const conn = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
  // A closed socket leaves requests pending forever; disposing rejects them (ErrorCodes.PendingResponseRejected),
  // so a caller learns the engine went away instead of waiting on nothing.
  conn.onClose(() => conn.dispose());
  conn.listen();
  return conn;
}

async function startEngine(root: string, socketPath: string, opts: ConnectOptions): Promise<net.Socket> {
  await fs.mkdir(root, { recursive: true, mode: 0o700 });
  const logPath = path.join(root, 'engine.log');
  const log = openSync(logPath, 'a', 0o600);
  const script = opts.engineScript ?? process.argv[1];
  // A small young generation: the engine idles most of its life, and V8's default 16 MB semi-spaces
  // keep memory resident after every burst of requests. gc is exposed for the idle collection (listen.ts).
  // --no-short-builtin-calls: V8 otherwise maps a second copy of its builtins (~1 MB of node's code)
  // next to the code it compiles, so that calls into them are direct; the engine's time goes to I/O
  // and processes, not to such calls, and the copy is 1 MB of every engine's resident size.
  const flags = ['--max-semi-space-size=1', '--expose-gc', '--no-short-builtin-calls'];
  const child = spawn(process.execPath, [...process.execArgv, ...flags, script, 'engine', '--root', root], {
    detached: true,
    stdio: ['ignore', log, log],
    // glibc gives each thread that mallocs its own arena (up to 8 per core), and the libuv pool and V8's
    // compiler threads each keep one partly resident; two arenas hold ~3 MB less after a burst of
    // container runs, with no measurable cost (glibc malloc(3) M_ARENA_MAX). A user's own setting wins.
    env: { ...process.env, SILO_ROOT: root, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' },
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  child.unref();
  const deadline = Date.now() + (opts.timeoutMs ?? 15000);
  for (let delay = 5; Date.now() < deadline; delay = Math.min(delay * 2, 100)) {
    const s = await trySocket(socketPath);
    if (s) return s;
    if (exited) {
      // Another starter may have won the race for the lock: its engine will answer shortly.
      const again = await waitForSocket(socketPath, 2000);
      if (again) return again;
      const last = lastLine(logPath);
      // The engine's own one-line reason ("silo: MESSAGE: HINT", cli/main.ts) is what the user needs.
      if (last.startsWith('silo: ')) throw new SiloError('Unavailable', last.slice('silo: '.length));
      throw unavailable(`the engine did not start: ${last}`, `see ${logPath}`);
    }
    await new Promise((r) => setTimeout(r, delay));
  }
  throw unavailable('the engine did not start in time', `see ${logPath}`);
}

async function waitForSocket(socketPath: string, ms: number): Promise<net.Socket | undefined> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const s = await trySocket(socketPath);
    if (s) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

function lastLine(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    return lines[lines.length - 1] || 'no output';
  } catch {
    return 'no output';
  }
}
