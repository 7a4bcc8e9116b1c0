// What every command gets: the data root, a lazy engine connection, output streams, and helpers for
// the protocol's streams (logs, exec output, keyboard input).
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { MessageConnection } from 'vscode-jsonrpc';
import * as P from '../protocol';
import { connectEngine } from '../rpc/connect';
import type { FlagSpec, Parsed } from './flags';

export interface Command {
  name: string;
  usage: string;
  description: string;
  flags: FlagSpec[];
  /** Options end at the first positional (run, exec): the container command keeps its own flags. */
  stopAtPositional?: boolean;
  minArgs?: number;
  maxArgs?: number;
  /** Exit code for errors of this command (docker run uses 125). */
  errorExitCode?: number;
  run(cli: Cli, p: Parsed): Promise<number>;
}

export class Cli {
  private conn: MessageConnection | undefined;
  private readonly streamHandlers = new Map<string, (lines: P.LogLine[]) => void>();

  constructor(
    readonly root: string,
    readonly out: NodeJS.WriteStream = process.stdout,
    readonly err: NodeJS.WriteStream = process.stderr,
  ) {}

  async engine(): Promise<MessageConnection> {
    if (!this.conn) {
      this.conn = await connectEngine(this.root);
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
      const stdin = process.stdin;
      if (opts.tty && stdin.isTTY) {
        stdin.setRawMode(true);
        cleanups.push(() => stdin.setRawMode(false));
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
      const onResize = () => send({ resize: { rows: this.out.rows, cols: this.out.columns } });
      this.out.on('resize', onResize);
      cleanups.push(() => this.out.off('resize', onResize));
    }
    return () => cleanups.forEach((c) => c());
  }

  consoleSize(): P.ConsoleSize | undefined {
    return this.out.isTTY ? { rows: this.out.rows, cols: this.out.columns } : undefined;
  }

  /** Standard input spooled to a private file in the data root, for requests that take a path. */
  async spoolStdin(): Promise<{ path: string; dispose(): Promise<void> }> {
    const dir = path.join(this.root, 'tmp');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `stdin-${process.pid}-${randomBytes(4).toString('hex')}`);
    await pipeline(process.stdin, createWriteStream(file, { mode: 0o600 }));
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
