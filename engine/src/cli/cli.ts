// What every command gets: the data root, a lazy engine connection, its terminal (this process's, or
// a `silo` front's relayed into the engine: cli/relay.ts), and helpers for the protocol's streams
// (logs, exec output, keyboard input).
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { MessageConnection } from 'vscode-jsonrpc';
import { SiloError } from '../errors';
import * as P from '../protocol';
import { connectEngine, type ConnectOptions } from '../rpc/connect';
import type { FlagSpec, Parsed } from './flags';

/** A command's standard output or error: a file, a pipe or a terminal (then with its size). */
export type TerminalOutput = NodeJS.WritableStream & {
  isTTY?: boolean;
  rows?: number;
  columns?: number;
};

/** A command's standard input; a terminal can be switched to raw mode (keys as typed, no echo). */
export type TerminalInput = NodeJS.ReadableStream & {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
};

/** Where a command runs for its user: streams, environment, working directory and signals. */
export interface Terminal {
  stdin: TerminalInput;
  out: TerminalOutput;
  err: TerminalOutput;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted when the user is gone (a relayed front disconnected or was interrupted): requests are cancelled. */
  signal?: AbortSignal;
  /** Calls `handler` on SIGINT (Ctrl-C) while the command wants to handle it; returns the unsubscribe. */
  onInterrupt(handler: () => void): () => void;
}

/** This process's terminal. */
export function processTerminal(): Terminal {
  return {
    stdin: process.stdin,
    out: process.stdout,
    err: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    onInterrupt(handler) {
      process.on('SIGINT', handler);
      return () => void process.off('SIGINT', handler);
    },
  };
}

export interface Command {
  name: string;
  usage: string;
  description: string;
  flags: FlagSpec[];
  /** Options end at the first positional (run, exec): the container command keeps its own flags. */
  stopAtPositional?: boolean;
  minArgs?: number;
  maxArgs?: number;
  /**
   * True when this command line must run in a process of its own, not relayed into the engine
   * (cli/relay.ts): it outlives an engine restart (`logs -f` reconnects and resumes).
   */
  ownProcess?(p: Parsed): boolean;
  /** Exit code for errors of this command (docker run uses 125). */
  errorExitCode?: number;
  run(cli: Cli, p: Parsed): Promise<number>;
}

export class Cli {
  private conn: MessageConnection | undefined;
  private readonly streamHandlers = new Map<string, (lines: P.LogLine[]) => void>();

  readonly out: TerminalOutput;
  readonly err: TerminalOutput;
  readonly stdin: TerminalInput;
  readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly root: string,
    readonly terminal: Terminal = processTerminal(),
    private readonly connectOptions: ConnectOptions = {},
  ) {
    this.out = terminal.out;
    this.err = terminal.err;
    this.stdin = terminal.stdin;
    this.env = terminal.env;
    terminal.signal?.addEventListener('abort', () => this.dispose());
  }

  /** A path the user typed, relative to their working directory. */
  resolvePath(p: string): string {
    return path.resolve(this.terminal.cwd, p);
  }

  async engine(): Promise<MessageConnection> {
    if (this.terminal.signal?.aborted) throw new SiloError('Canceled', 'the command was canceled');
    if (!this.conn) {
      this.conn = await connectEngine(this.root, this.connectOptions);
      this.conn.onNotification(P.StreamLinesNotification.type, (p) => this.streamHandlers.get(p.stream)?.(p.lines));
    }
    return this.conn;
  }

  /** A fresh stream token and its line handler; returns the token. */
  onLines(handler: (lines: P.LogLine[]) => void): string {
    const token = randomBytes(8).toString('hex');
    this.streamHandlers.set(token, handler);
    return token;
  }

  offLines(token: string): void {
    this.streamHandlers.delete(token);
  }

  /** Writes log lines to stdout / stderr as their stream says, optionally with timestamps. */
  printLines(lines: P.LogLine[], timestamps = false): void {
    for (const l of lines) {
      const text = timestamps ? `${l.time} ${l.log}` : l.log;
      (l.stream === 'stderr' ? this.err : this.out).write(text);
    }
  }

  /** Forwards this terminal's keyboard (raw when a TTY) and size to an attached stream. */
  forwardInput(token: string, opts: { tty: boolean; stdin: boolean }): () => void {
    const conn = this.conn!;
    const send = (p: { data?: string; close?: boolean; resize?: P.ConsoleSize }) =>
      void conn.sendNotification(P.StreamInputNotification.type, { stream: token, ...p });
    const cleanups: Array<() => void> = [];
    if (opts.stdin) {
      const stdin = this.stdin;
      if (opts.tty && stdin.isTTY && stdin.setRawMode) {
        stdin.setRawMode(true);
        cleanups.push(() => stdin.setRawMode!(false));
      }
      const onData = (d: Buffer) => send({ data: d.toString('base64') });
      const onEnd = () => send({ close: true });
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdin.resume();
      cleanups.push(() => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
      });
    }
    if (opts.tty && this.out.isTTY) {
      const onResize = () => send({ resize: { rows: this.out.rows ?? 24, cols: this.out.columns ?? 80 } });
      this.out.on('resize', onResize);
      cleanups.push(() => this.out.off('resize', onResize));
    }
    return () => cleanups.forEach((c) => c());
  }

  consoleSize(): P.ConsoleSize | undefined {
    return this.out.isTTY ? { rows: this.out.rows ?? 24, cols: this.out.columns ?? 80 } : undefined;
  }

  /** Standard input spooled to a private file in the data root, for requests that take a path. */
  async spoolStdin(): Promise<{ path: string; dispose(): Promise<void> }> {
    const dir = path.join(this.root, 'tmp');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `stdin-${process.pid}-${randomBytes(8).toString('hex')}`);
    await pipeline(this.stdin, createWriteStream(file, { mode: 0o600 }));
    return { path: file, dispose: () => fs.rm(file, { force: true }) };
  }

  async pipeFileToStdout(file: string): Promise<void> {
    await pipeline(createReadStream(file), this.out);
  }

  /** Drops the connection; the next engine() call reconnects (and starts an engine if none runs). */
  reset(): void {
    this.conn?.dispose();
    this.conn = undefined;
  }

  dispose(): void {
    this.conn?.dispose();
  }
}
