// The engine's side of the HCS supervisor: a Runtime that forwards to it, starting it (detached, so
// it outlives the engine) when nobody answers on the data root's socket or pipe.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { createMessageConnection, SocketMessageReader, SocketMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { unavailable } from '../../../errors';
import type { ContainerIO, ContainerSpec, ProcessSpec, Runtime, Started } from '../../../runtime/runtime';
import { fromResponseError, SupervisorDelete, SupervisorExec, SupervisorList, SupervisorStart, SupervisorWait, type SupervisorConfig } from './protocol';

export interface SupervisedRuntimeOptions {
  config: SupervisorConfig;
  /** The supervisor's entry file (dist/silo-hcs-supervisor.js) and the Node flags it needs. */
  entry: string;
  execArgv?: string[];
  /** Where the supervisor's own stderr goes. */
  logFile?: string;
  /** How long to wait for a supervisor just started. */
  startTimeoutMs?: number;
}

export class SupervisedRuntime implements Runtime {
  readonly name = 'hcs';
  private conn: Promise<MessageConnection> | undefined;

  constructor(private readonly opts: SupervisedRuntimeOptions) {}

  private connectOnce(): Promise<MessageConnection | undefined> {
    return new Promise((resolve) => {
      const socket = net.connect(this.opts.config.socket);
      socket.once('error', () => resolve(undefined));
      socket.once('connect', () => {
        const conn = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
        conn.onClose(() => (this.conn = undefined));
        socket.on('error', () => conn.dispose());
        conn.listen();
        resolve(conn);
      });
    });
  }

  private connection(): Promise<MessageConnection> {
    return (this.conn ??= (async () => {
      const first = await this.connectOnce();
      if (first) return first;
      this.spawnSupervisor();
      const deadline = Date.now() + (this.opts.startTimeoutMs ?? 15_000);
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        const c = await this.connectOnce();
        if (c) return c;
      }
      throw unavailable('The HCS supervisor did not start', `see ${this.opts.logFile ?? 'its log'}`);
    })().catch((err) => {
      this.conn = undefined;
      throw err;
    }));
  }

  private spawnSupervisor(): void {
    const out = this.opts.logFile ? fs.openSync(this.opts.logFile, 'a') : 'ignore';
    const child = spawn(process.execPath, [...(this.opts.execArgv ?? []), this.opts.entry, JSON.stringify(this.opts.config)], {
      detached: true,
      stdio: ['ignore', out, out],
      windowsHide: true,
    });
    child.unref();
    if (typeof out === 'number') fs.closeSync(out);
  }

  private async request<P, R>(type: { method: string } & object, params: P): Promise<R> {
    const conn = await this.connection();
    try {
      return (await conn.sendRequest(type as never, params)) as R;
    } catch (err) {
      throw fromResponseError(err);
    }
  }

  start(spec: ContainerSpec, io: ContainerIO): Promise<Started> {
    return this.request(SupervisorStart.type, { spec, io });
  }

  exec(spec: ContainerSpec, execId: string, proc: ProcessSpec, io: ContainerIO): Promise<Started> {
    return this.request(SupervisorExec.type, { spec, execId, proc, io });
  }

  async delete(id: string): Promise<void> {
    await this.request(SupervisorDelete.type, { id });
  }

  /** Resolves when the container has exited and the supervisor closed its handles. */
  async wait(id: string): Promise<void> {
    await this.request(SupervisorWait.type, { id });
  }

  /** The containers the supervisor holds, with their init process ids. */
  list(): Promise<Array<{ id: string; pid: number }>> {
    return this.request(SupervisorList.type, null);
  }

  /** Drops the connection (the engine going away); the supervisor and its containers stay. */
  async dispose(): Promise<void> {
    const c = this.conn;
    this.conn = undefined;
    (await c?.catch(() => undefined))?.dispose();
  }
}
