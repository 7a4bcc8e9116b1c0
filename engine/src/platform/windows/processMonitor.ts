// The monitor side of runtime/monitor.ts for one HCS process, run inside the engine for now: stdout
// and stderr into the log, the control socket's frames (stdin, close-stdin, resize, signal) to HCS,
// and the exit as both the exit record and an Exit frame to every connected client. The frames are
// the Linux monitor's (type u8, length u32 BE, payload), so runtime/ drives both platforms alike.
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import type { ExitStatus } from '../../runtime/runtime';
import { pumpToLog, writeExitRecord } from './containerLog';
import type { HcsProcess } from './hcs/process';
import { Frame, frame } from '../../runtime/monitor';


export interface MonitorFiles {
  log: string;
  exit: string;
  socket: string;
}

export class ProcessMonitor {
  /** Resolves once the exit record is written. */
  readonly done: Promise<ExitStatus>;
  /** Resolves once the control socket accepts connections. */
  readonly ready: Promise<void>;
  private readonly server: net.Server;
  private readonly clients = new Set<net.Socket>();

  constructor(private readonly proc: HcsProcess, files: MonitorFiles, keepStdin: boolean) {
    const stdio = proc.stdio();
    if (!keepStdin) stdio.stdin?.end();
    const pumps = [stdio.stdout && pumpToLog(stdio.stdout, 'stdout', files.log), stdio.stderr && pumpToLog(stdio.stderr, 'stderr', files.log)];
    const server = net.createServer((socket) => this.serve(socket, stdio.stdin));
    this.server = server;
    const listening = fs.rm(files.socket, { force: true }).then(() => new Promise<void>((resolve, reject) => server.once('error', reject).listen(files.socket, resolve)));
    this.ready = listening;
    this.done = (async () => {
      await listening.catch(() => undefined);
      const exit = await proc.exited;
      await Promise.all(pumps);
      const status: ExitStatus = { exitCode: exit.exitCode ?? -1, oomKilled: false, finishedAt: new Date().toISOString() };
      await writeExitRecord(files.exit, status);
      const payload = Buffer.from(JSON.stringify({ ...status, signal: null }));
      for (const c of this.clients) c.end(frame(Frame.Exit, payload));
      server.close();
      stdio.stdin?.destroy();
      return status;
    })();
  }

  private serve(socket: net.Socket, stdin: net.Socket | undefined): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 5) {
        const len = buf.readUInt32BE(1);
        if (buf.length < 5 + len) break;
        const type = buf[0];
        const payload = buf.subarray(5, 5 + len);
        buf = buf.subarray(5 + len);
        this.handle(type, payload, stdin).catch(() => undefined);
      }
    });
  }

  private async handle(type: number, payload: Buffer, stdin: net.Socket | undefined): Promise<void> {
    switch (type) {
      case Frame.Stdin:
        stdin?.write(payload);
        break;
      case Frame.CloseStdin:
        stdin?.end();
        await this.proc.closeStdin();
        break;
      case Frame.Resize:
        await this.proc.resizeConsole(payload.readUInt16BE(0), payload.readUInt16BE(2));
        break;
      case Frame.Signal:
        await this.proc.signal(payload.readUInt32BE(0));
        break;
    }
  }
}

