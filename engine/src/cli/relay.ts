// The engine end of the `silo` front (engine/front/silo-front.c): a native program that starts in about
// a millisecond, connects to <root>/cli.sock and relays its command line, environment, working
// directory, standard streams, terminal size and signals; the command itself runs here, in the engine
// process, through the same code as `node silo.js` (runCli). A Node CLI pays ~60 ms to start before it
// does anything — more than running a container — so the front is what makes `silo run` quick.
//
// Frames both ways: one type byte, a 32-bit big-endian length, the payload.
//   front -> engine: H hello (NUL-separated: "silo-front 1", cwd, tty flags "ioe" as 0/1, rows, cols,
//                    argc, args..., env entries...), I stdin bytes, E stdin ended, R resize "rows cols",
//                    S a signal's name (SIGINT ...)
//   engine -> front: 1 stdout bytes, 2 stderr bytes, W start reading stdin, T raw mode "1"/"0",
//                    X exit code (decimal): the last frame; or N, the last frame too: run this command
//                    line with the Node CLI (a command that must outlive an engine restart, Command.ownProcess)
// The front reads its stdin only when asked (W): a command that does not read input leaves it alone,
// as a local process would.
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import { Readable, Writable } from 'node:stream';
import { cliSocketPath, listenOwnerOnly } from '../rpc/paths';
import type { Terminal, TerminalInput, TerminalOutput } from './cli';
import { runCli } from './main';

const HELLO_TAG = 'silo-front 1';
const HEADER = 5;
/** A hello larger than this is not a command line (Linux's own limit on argv + environ is 2 MB). */
const MAX_HELLO = 4 * 1024 * 1024;
const MAX_FRAME = 1024 * 1024;

function frame(type: string, payload: Buffer | string = ''): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(HEADER);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Splits a byte stream into frames. */
class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly limit: (type: string) => number) {}

  /** The frames completed by `chunk`; throws on a frame over its type's limit. */
  push(chunk: Buffer): Array<{ type: string; payload: Buffer }> {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Array<{ type: string; payload: Buffer }> = [];
    while (this.buf.length >= HEADER) {
      const type = String.fromCharCode(this.buf[0]);
      const len = this.buf.readUInt32BE(1);
      if (len > this.limit(type)) throw new Error(`a ${type} frame of ${len} bytes is over the limit`);
      if (this.buf.length < HEADER + len) break;
      frames.push({ type, payload: this.buf.subarray(HEADER, HEADER + len) });
      this.buf = this.buf.subarray(HEADER + len);
    }
    return frames;
  }
}

interface Hello {
  cwd: string;
  tty: { stdin: boolean; stdout: boolean; stderr: boolean };
  rows: number;
  cols: number;
  argv: string[];
  env: NodeJS.ProcessEnv;
}

function parseHello(payload: Buffer): Hello {
  const fields = payload.toString('utf8').split('\0');
  if (fields[fields.length - 1] === '') fields.pop();
  if (fields[0] !== HELLO_TAG) throw new Error(`unknown front protocol "${fields[0]?.slice(0, 40)}"`);
  const [, cwd, flags, rows, cols, argc] = fields;
  const n = Number(argc);
  if (!/^[01]{3}$/.test(flags ?? '') || !Number.isInteger(n) || n < 0 || 6 + n > fields.length) throw new Error('a malformed hello');
  const env: NodeJS.ProcessEnv = {};
  for (const e of fields.slice(6 + n)) {
    const eq = e.indexOf('=');
    if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return {
    cwd: cwd || '/',
    tty: { stdin: flags[0] === '1', stdout: flags[1] === '1', stderr: flags[2] === '1' },
    rows: Number(rows) || 24,
    cols: Number(cols) || 80,
    argv: fields.slice(6, 6 + n),
    env,
  };
}

/** The front's stdout or stderr: writes become frames, in order with everything else sent. */
class RelayedOutput extends Writable implements TerminalOutput {
  rows: number;
  columns: number;

  constructor(private readonly socket: net.Socket, private readonly type: string, readonly isTTY: boolean, size: { rows: number; cols: number }) {
    super({ decodeStrings: true });
    this.rows = size.rows;
    this.columns = size.cols;
    // A command that writes after its session ended (a late log line) must not take the engine down.
    this.on('error', () => undefined);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.socket.destroyed) return done();
    this.socket.write(frame(this.type, chunk), () => done());
  }
}

/** The front's stdin: asked for on the first read; a full buffer pauses the connection. */
class RelayedInput extends Readable implements TerminalInput {
  private asked = false;

  constructor(private readonly socket: net.Socket, readonly isTTY: boolean) {
    super();
  }

  override _read(): void {
    if (!this.asked) {
      this.asked = true;
      this.socket.write(frame('W'));
    }
    this.socket.resume();
  }

  setRawMode(raw: boolean): this {
    if (this.isTTY && !this.socket.destroyed) this.socket.write(frame('T', raw ? '1' : '0'));
    return this;
  }

  received(data: Buffer): void {
    if (!this.push(data)) this.socket.pause();
  }
}

const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGQUIT: 131, SIGTERM: 143 };

/** Serves one front connection: its hello, then one command. */
function serveFront(socket: net.Socket, root: string): void {
  let session: { input: RelayedInput; out: RelayedOutput; err: RelayedOutput; abort: AbortController; interrupts: Set<() => void> } | undefined;
  let ended = false;
  const end = (code: number) => {
    if (ended) return;
    ended = true;
    if (!session) {
      socket.end(frame('X', String(code)));
      return;
    }
    const { out, err, abort } = session;
    out.end();
    err.end();
    // Everything the command wrote goes out before its exit code.
    void Promise.all([once(out, 'finish'), once(err, 'finish')]).then(() => {
      socket.end(frame('X', String(code)));
      abort.abort();
    });
  };
  const refuse = (message: string) => {
    if (!socket.destroyed) socket.write(frame('2', `silo: ${message}\n`));
    end(1);
  };
  const reader = new FrameReader((type) => (type === 'H' ? MAX_HELLO : MAX_FRAME));
  socket.on('data', (chunk: Buffer) => {
    let frames;
    try {
      frames = reader.push(chunk);
    } catch (e) {
      refuse((e as Error).message);
      return;
    }
    for (const f of frames) {
      if (!session) {
        if (f.type !== 'H') return refuse('the front spoke before its hello');
        let hello: Hello;
        try {
          hello = parseHello(f.payload);
        } catch (e) {
          return refuse(`${(e as Error).message}: the silo front and the engine differ in version; stop the engine (it restarts on demand)`);
        }
        session = start(hello);
        continue;
      }
      switch (f.type) {
        case 'I':
          session.input.received(Buffer.from(f.payload));
          break;
        case 'E':
          session.input.push(null);
          break;
        case 'R': {
          const [rows, cols] = f.payload.toString().split(' ').map(Number);
          for (const o of [session.out, session.err]) {
            o.rows = rows || o.rows;
            o.columns = cols || o.columns;
            o.emit('resize');
          }
          break;
        }
        case 'S': {
          const name = f.payload.toString();
          // Ctrl-C goes to a command that handles it (build cancels); otherwise the command ends,
          // as a local process without a handler would.
          if (name === 'SIGINT' && session.interrupts.size) session.interrupts.forEach((h) => h());
          else end(SIGNAL_EXIT[name] ?? 1);
          break;
        }
      }
    }
  });
  // The front went away (killed, or its terminal closed): the command's requests are cancelled.
  socket.on('close', () => {
    ended = true;
    session?.abort.abort();
  });
  socket.on('error', () => socket.destroy());

  function start(hello: Hello) {
    const size = { rows: hello.rows, cols: hello.cols };
    const input = new RelayedInput(socket, hello.tty.stdin);
    const out = new RelayedOutput(socket, '1', hello.tty.stdout, size);
    const err = new RelayedOutput(socket, '2', hello.tty.stderr, size);
    const abort = new AbortController();
    const interrupts = new Set<() => void>();
    const term: Terminal = {
      stdin: input,
      out,
      err,
      env: hello.env,
      cwd: hello.cwd,
      signal: abort.signal,
      onInterrupt(handler) {
        interrupts.add(handler);
        return () => void interrupts.delete(handler);
      },
    };
    const s = { input, out, err, abort, interrupts };
    let handedOver = false;
    const handOver = () => {
      handedOver = ended = true;
      socket.end(frame('N'));
    };
    void runCli(hello.argv, term, { root, connect: { autoStart: false }, handOver }).then(
      (code) => handedOver || end(code),
      (e) => {
        if (!ended) err.write(`silo: ${(e as Error).message}\n`);
        end(1);
      },
    );
    return s;
  }
}

export interface FrontRelay {
  close(): Promise<void>;
}

/** Listens on <root>/cli.sock (owner-only, like the engine socket: a command line here is as powerful). */
export async function serveFrontRelay(root: string): Promise<FrontRelay> {
  const address = cliSocketPath(root);
  const server = net.createServer((socket) => serveFront(socket, root));
  await listenOwnerOnly(server, address);
  return {
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(address, { force: true });
    },
  };
}
