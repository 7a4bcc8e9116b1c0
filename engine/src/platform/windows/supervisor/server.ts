// The HCS supervisor: one process per data root that holds every Windows container's HCS handles and
// stdio (HcsRuntime, with a ProcessMonitor per process writing runtime/monitor.ts's log, exit record and
// control socket), so containers, their logs and exit codes outlive the engine (README: "Decision").
// It serves the engine over supervisorSocket(root), refuses to start twice, and exits when no
// container runs and no engine is connected for idleExitMs. With config.stateDir it records every
// container and its compute systems survive it, so after its own crash the next supervisor re-adopts
// them before it answers any request (HcsRuntime.adopt). The process entry is main.ts.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { createMessageConnection, SocketMessageReader, SocketMessageWriter } from 'vscode-jsonrpc/node';
import { HcnNatNetwork, loadHcnApi, type HcnApi } from '../hcn/natNetwork';
import { loadHcsApi, type HcsApi } from '../hcs/api';
import { VmcomputeLayerMounter } from '../layerMount';
import { HeldContainerStore } from '../heldContainers';
import { HcsRuntime } from '../runtime';
import { SupervisorDelete, SupervisorExec, SupervisorList, SupervisorStart, SupervisorWait, supervisorOwner, toResponseError, type SupervisorConfig } from './protocol';
import * as os from 'node:os';
import * as path from 'node:path';

export function hcsRuntimeFor(config: Omit<SupervisorConfig, 'socket'>): HcsRuntime {
  const libs = config.libraries ?? {};
  let hcs: HcsApi | undefined;
  let hcn: HcnApi | undefined;
  return new HcsRuntime({
    api: () => (hcs ??= loadHcsApi({ computecore: libs.computecore, kernel32: libs.kernel32 })),
    mounter: new VmcomputeLayerMounter(libs.vmcompute),
    owner: config.stateDir ? supervisorOwner(config.stateDir) : 'silo',
    hostCpuCount: os.availableParallelism(),
    hasUtilityVm: (layerPath) => fs.existsSync(path.join(layerPath, 'UtilityVM')),
    network: new HcnNatNetwork(() => (hcn ??= loadHcnApi({ computenetwork: libs.computenetwork, ole32: libs.ole32 })), config.network ?? { name: 'silo-nat', subnet: '172.30.0.0/16' }),
    ...(config.platform ? { platform: config.platform } : {}),
    ...(config.stateDir ? { held: new HeldContainerStore(config.stateDir) } : {}),
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
  const hold = (id: string) => {
    running.add(id);
    void runtime.wait(id).finally(() => {
      running.delete(id);
      idleSince = Date.now();
    });
  };
  let adopted: Promise<void> = Promise.resolve();
  const server = await listen(config.socket, (socket) => {
    connections++;
    const conn = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    const handle = <P, R>(fn: (p: P) => Promise<R>) => async (p: P) => {
      try {
        await adopted; // no request sees the containers half re-adopted
        return await fn(p);
      } catch (err) {
        throw toResponseError(err);
      }
    };
    conn.onRequest(SupervisorStart.type, handle(async ({ spec, io }) => {
      const started = await runtime.start(spec, io);
      hold(spec.id);
      return started;
    }));
    conn.onRequest(SupervisorList.type, handle(async () => runtime.list()));
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
  // Only the supervisor that owns the socket re-adopts, so no container is held twice.
  adopted = readopt(runtime, config, hold);
  const idleMs = config.idleExitMs ?? 60_000;
  const timer = setInterval(() => {
    if (connections === 0 && running.size === 0 && Date.now() - idleSince >= idleMs) {
      clearInterval(timer);
      server.close(() => process.exit(0));
    }
  }, Math.min(1000, Math.max(50, idleMs / 4)));
}

/** Re-adopts every container a previous supervisor of this root recorded (it crashed, or was killed). */
async function readopt(runtime: HcsRuntime, config: SupervisorConfig, hold: (id: string) => void): Promise<void> {
  if (!config.stateDir) return;
  const records = await new HeldContainerStore(config.stateDir).list().catch(() => []);
  for (const c of records) {
    try {
      const r = await runtime.adopt(c);
      if (r.state === 'running') hold(c.id);
      process.stderr.write(`silo hcs supervisor: re-adopted ${c.id.slice(0, 12)}: ${r.state === 'running' ? `running, pid ${r.pid}` : `had exited, exit code ${r.exitCode} recorded`}\n`);
    } catch (err) {
      process.stderr.write(`silo hcs supervisor: could not re-adopt ${c.id.slice(0, 12)}: ${(err as Error).message}\n`);
    }
  }
  // Systems of this root that no record claims (their record was lost): nobody can reach them again.
  try {
    for (const id of await runtime.endUnclaimed(new Set(records.map((c) => c.id)))) {
      process.stderr.write(`silo hcs supervisor: terminated ${id.slice(0, 12)}, a compute system of this data root that no record claims\n`);
    }
  } catch (err) {
    process.stderr.write(`silo hcs supervisor: could not list this data root's compute systems: ${(err as Error).message}\n`);
  }
}
