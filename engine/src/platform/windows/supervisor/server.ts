// The HCS supervisor: one process per data root that holds every Windows container's HCS handles and
// stdio (HcsRuntime, with a ProcessMonitor per process writing runtime/monitor.ts's log, exit record and
// control socket), so containers, their logs and exit codes outlive the engine (README: "Decision").
// It serves the engine over supervisorSocket(root), refuses to start twice, and exits when no
// container runs and no engine is connected for idleExitMs. The process entry is main.ts.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { createMessageConnection, SocketMessageReader, SocketMessageWriter } from 'vscode-jsonrpc/node';
import { HcnNatNetwork, loadHcnApi, type HcnApi } from '../hcn/natNetwork';
import { loadHcsApi, type HcsApi } from '../hcs/api';
import { VmcomputeLayerMounter } from '../layerMount';
import { HcsRuntime } from '../runtime';
import { SupervisorDelete, SupervisorExec, SupervisorStart, SupervisorWait, toResponseError, type SupervisorConfig } from './protocol';
import * as os from 'node:os';
import * as path from 'node:path';

export function hcsRuntimeFor(config: Omit<SupervisorConfig, 'socket'>): HcsRuntime {
  const libs = config.libraries ?? {};
  let hcs: HcsApi | undefined;
  let hcn: HcnApi | undefined;
  return new HcsRuntime({
    api: () => (hcs ??= loadHcsApi({ computecore: libs.computecore, kernel32: libs.kernel32 })),
    mounter: new VmcomputeLayerMounter(libs.vmcompute),
    owner: 'silo',
    hostCpuCount: os.availableParallelism(),
    hasUtilityVm: (layerPath) => fs.existsSync(path.join(layerPath, 'UtilityVM')),
    network: new HcnNatNetwork(() => (hcn ??= loadHcnApi({ computenetwork: libs.computenetwork, ole32: libs.ole32 })), config.network ?? { name: 'silo-nat', subnet: '172.30.0.0/16' }),
    ...(config.platform ? { platform: config.platform } : {}),
  });
}

/** Listens; resolves with the server, or undefined when another supervisor already serves `socket`. */
async function listen(socket: string, onConnection: (s: net.Socket) => void): Promise<net.Server | undefined> {
  const server = net.createServer(onConnection);
  const attempt = () => new Promise<void>((resolve, reject) => server.once('error', reject).listen(socket, () => resolve()));
  try {
    await attempt();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    // In use: a live supervisor answers, a stale socket file (a crash) does not.
    const alive = await new Promise<boolean>((r) => net.connect(socket).once('connect', function (this: net.Socket) { this.destroy(); r(true); }).once('error', () => r(false)));
    if (alive || process.platform === 'win32') return undefined;
    fs.rmSync(socket, { force: true });
    await attempt();
  }
  if (process.platform !== 'win32') fs.chmodSync(socket, 0o600);
  return server;
}

export async function runSupervisor(config: SupervisorConfig): Promise<void> {
  const runtime = hcsRuntimeFor(config);
  const running = new Set<string>();
  let connections = 0;
  let idleSince = Date.now();
  const server = await listen(config.socket, (socket) => {
    connections++;
    const conn = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    const handle = <P, R>(fn: (p: P) => Promise<R>) => async (p: P) => {
      try {
        return await fn(p);
      } catch (err) {
        throw toResponseError(err);
      }
    };
    conn.onRequest(SupervisorStart.type, handle(async ({ spec, io }) => {
      const started = await runtime.start(spec, io);
      running.add(spec.id);
      void runtime.wait(spec.id).finally(() => {
        running.delete(spec.id);
        idleSince = Date.now();
      });
      return started;
    }));
    conn.onRequest(SupervisorExec.type, handle(({ spec, execId, proc, io }) => runtime.exec(spec, execId, proc, io)));
    conn.onRequest(SupervisorDelete.type, handle(async ({ id }) => (await runtime.delete(id), null)));
    conn.onRequest(SupervisorWait.type, handle(async ({ id }) => (await runtime.wait(id), null)));
    conn.onClose(() => {
      connections--;
      idleSince = Date.now();
    });
    socket.on('error', () => conn.dispose());
    conn.listen();
  });
  if (!server) return; // another supervisor serves this root
  const idleMs = config.idleExitMs ?? 60_000;
  const timer = setInterval(() => {
    if (connections === 0 && running.size === 0 && Date.now() - idleSince >= idleMs) {
      clearInterval(timer);
      server.close(() => process.exit(0));
    }
  }, Math.min(1000, Math.max(50, idleMs / 4)));
}
