// The HCS supervisor as a real separate process (started by the engine's SupervisedRuntime through
// tsx), over the computecore, vmcompute and computenetwork C fixtures: a Windows container keeps
// running, logging and answering its control socket after the engine lets go; a restarted engine
// finds the same supervisor; errors cross the pipe as the same SiloError; the supervisor leaves when
// nothing runs. And its own crash: compute systems live in the fixture's daemon (the vmcompute.exe
// stand-in), so after a SIGKILL of the supervisor the next one re-adopts them — listed, stoppable,
// killable, their exits recorded — and records the exit of those that ended while none ran.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SupervisedRuntime } from '../../../engine/src/platform/windows/supervisor/client';
import { loadHcsApi } from '../../../engine/src/platform/windows/hcs/api';
import { HcsComputeSystem } from '../../../engine/src/platform/windows/hcs/computeSystem';
import { HcsError } from '../../../engine/src/platform/windows/hresult';
import { supervisorOwner, supervisorSocket, type SupervisorConfig } from '../../../engine/src/platform/windows/supervisor/protocol';
import { windowsLayerMount } from '../../../engine/src/platform/windows/windowsLayerMount';
import { containerFiles, MonitorConnection, readExit } from '../../../engine/src/runtime/monitor';
import { readLog } from '../../../engine/src/runtime/logs';
import type { ContainerSpec } from '../../../engine/src/runtime/runtime';
import { SiloError } from '../../../engine/src/errors';
import { buildHcsFixture, skipWithoutCompiler as skip } from './hcsFixture';

const fixtures: Array<{ lib: string; cleanup: () => void }> = [];
let root = '';
let config: SupervisorConfig;
let coreLib = '';

before(() => {
  if (skip) return;
  const [core, vm, net] = (['computecore', 'vmcompute', 'computenetwork'] as const).map((n) => buildHcsFixture(n));
  fixtures.push(core, vm, net);
  coreLib = core.lib;
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'silo-hcs-sup-'));
  fs.mkdirSync(path.join(root, 'layers', 'base', 'UtilityVM'), { recursive: true });
  config = {
    socket: supervisorSocket(root),
    libraries: { computecore: core.lib, kernel32: core.lib, vmcompute: vm.lib, computenetwork: net.lib, ole32: net.lib },
    platform: 'win32',
    idleExitMs: 300,
    stateDir: path.join(root, 'hcs-supervisor'),
  };
});
after(() => {
  for (const f of fixtures) f.cleanup();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const engine = (cfg: SupervisorConfig = config) =>
  new SupervisedRuntime({
    config: cfg,
    entry: path.resolve(__dirname, '../../../engine/src/platform/windows/supervisor/main.ts'),
    execArgv: ['--import', 'tsx'],
    logFile: path.join(root, 'hcs-supervisor.log'),
  });

function spec(id: string, args: string[]): ContainerSpec {
  return {
    id,
    os: 'windows',
    isolation: 'hyperv',
    rootfs: [windowsLayerMount({ scratchPath: path.join(root, 'snapshots', id), parentLayerPaths: [path.join(root, 'layers', 'base')] })],
    process: { args, env: [], cwd: 'C:\\', user: 'ContainerUser', terminal: false, stdin: false },
    hostname: id.slice(0, 12),
    mounts: [],
    ports: [{ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    resources: {},
    stopSignal: 'SIGTERM',
  };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a Windows container outlives the engine in the supervisor, which leaves when nothing runs', { skip, timeout: 60_000 }, async () => {
  const first = engine();
  const s = spec('c0ffee00sup1', ['cmd', '/S', '/C', 'echo hello && wait']);
  const dir = path.join(root, 'c1');
  fs.mkdirSync(dir);
  const started = await first.start(s, { dir });
  assert.notEqual(started.monitorPid, process.pid, 'the handles live in another process');
  assert.ok(alive(started.monitorPid));

  // Errors arrive as the same SiloError, kind and hint included.
  await assert.rejects(first.start({ ...spec('mismatch00sup', ['cmd']), ports: [] }, { dir: path.join(root, 'c2') }), (e: unknown) => {
    assert.ok(e instanceof SiloError);
    assert.equal(e.kind, 'FailedPrecondition');
    assert.match(e.line, /--isolation hyperv/);
    return true;
  });

  await first.dispose(); // the engine goes away
  await new Promise((r) => setTimeout(r, 700)); // longer than idleExitMs: a running container keeps it
  assert.ok(alive(started.monitorPid), 'the supervisor stays while a container runs');

  const files = containerFiles(dir);
  const conn = await MonitorConnection.connect(files.socket);
  assert.ok(conn, 'the control socket still answers');
  conn.signal(2);
  assert.equal((await conn.exited)?.exitCode, 0xc000013a);
  conn.close();

  const second = engine(); // a restarted engine finds the same supervisor
  await second.wait(s.id);
  assert.equal((await readExit(files.exit))?.exitCode, 0xc000013a);
  const lines: string[] = [];
  for await (const l of readLog(files.log)) lines.push(l.log);
  assert.deepEqual(lines, ['hello\n']);
  await second.dispose();

  for (let i = 0; i < 100 && alive(started.monitorPid); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!alive(started.monitorPid), 'the idle supervisor exited');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGKILL, as a crash: no handle is closed, no record removed. */
async function crash(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(20);
  assert.ok(!alive(pid));
}

async function runDir(name: string): Promise<string> {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  return dir;
}

test('after a supervisor crash the next one re-adopts its running containers: listed, stopped, killed, exits recorded', { skip, timeout: 60_000 }, async () => {
  const first = engine();
  const a = spec('c0ffee00ad01', ['cmd', '/S', '/C', 'echo before the crash && wait']);
  const b = { ...spec('c0ffee00ad02', ['cmd', '/S', '/C', 'wait']), ports: [] };
  const [dirA, dirB] = [await runDir('ad01'), await runDir('ad02')];
  const startedA = await first.start(a, { dir: dirA });
  const startedB = await first.start(b, { dir: dirB });
  assert.equal(startedA.monitorPid, startedB.monitorPid);
  await first.dispose();
  await crash(startedA.monitorPid);

  const second = engine(); // finds nobody on the socket: starts a new supervisor, which re-adopts
  const held = (await second.list()).sort((x, y) => x.id.localeCompare(y.id));
  assert.deepEqual(held, [
    { id: a.id, pid: startedA.pid },
    { id: b.id, pid: startedB.pid },
  ]);

  // stop: the stop signal through the control socket the new supervisor serves again
  const filesA = containerFiles(dirA);
  const connA = await MonitorConnection.connect(filesA.socket);
  assert.ok(connA, 'the re-adopted container answers on its control socket');
  connA.signal(15); // SIGTERM -> CtrlShutdown; the fixture's process then exits 0
  assert.equal((await connA.exited)?.exitCode, 0);
  connA.close();
  await second.wait(a.id);
  assert.equal((await readExit(filesA.exit))?.exitCode, 0);
  const lines: string[] = [];
  for await (const l of readLog(filesA.log)) lines.push(l.log);
  assert.deepEqual(lines, ['before the crash\n'], 'what was logged before the crash stays; nothing is lost or doubled');

  // kill: SIGKILL is HcsTerminateProcess (exit code 1 in the fixture)
  const filesB = containerFiles(dirB);
  const connB = await MonitorConnection.connect(filesB.socket);
  assert.ok(connB);
  connB.signal(9);
  assert.equal((await connB.exited)?.exitCode, 1);
  connB.close();
  await second.wait(b.id);
  assert.equal((await readExit(filesB.exit))?.exitCode, 1);

  assert.deepEqual(await second.list(), []);
  assert.deepEqual(fs.readdirSync(config.stateDir!), [], 'no record is left once the containers ended');
  await second.dispose();
});

test('containers that ended while no supervisor ran get their exit recorded: the real code if HCS still has it, else 255', { skip, timeout: 60_000 }, async () => {
  const first = engine();
  const c = { ...spec('c0ffee00ad03', ['cmd', '/S', '/C', 'sleep 300 && exit 7']), ports: [] };
  const d = { ...spec('c0ffee00ad04', ['cmd', '/S', '/C', 'wait']), ports: [] };
  const [dirC, dirD] = [await runDir('ad03'), await runDir('ad04')];
  const started = await first.start(c, { dir: dirC });
  await first.start(d, { dir: dirD });
  await first.dispose();
  await crash(started.monitorPid);

  // While no supervisor runs: c's process exits by itself (its system stays); d's system is
  // terminated by another HCS client (as `hcsdiag kill` would) and goes away.
  const other = loadHcsApi({ computecore: coreLib, kernel32: coreLib });
  const sys = await HcsComputeSystem.open(other, d.id);
  await sys.terminate();
  await sys.close();
  await assert.rejects(HcsComputeSystem.open(other, d.id), (e: unknown) => e instanceof HcsError);
  await sleep(600);

  const second = engine();
  await second.wait(c.id);
  await second.wait(d.id);
  assert.equal((await readExit(containerFiles(dirC).exit))?.exitCode, 7, 'HCS still knew the exit code');
  assert.equal((await readExit(containerFiles(dirD).exit))?.exitCode, 255, "HCS could not tell: containerd's code for a container whose shim died");
  const log = fs.readFileSync(path.join(root, 'hcs-supervisor.log'), 'utf8');
  assert.match(log, /re-adopted c0ffee00ad03: running/, 'c was re-adopted running, then seen to have exited');
  assert.match(log, /re-adopted c0ffee00ad04: had exited, exit code 255 recorded/);
  assert.deepEqual(await second.list(), []);
  assert.deepEqual(fs.readdirSync(config.stateDir!), []);
  await second.dispose();
});

test('without re-adoption (no stateDir) a supervisor crash ends its containers: HCS terminates them with the last handle', { skip, timeout: 60_000 }, async () => {
  const { stateDir: _, ...noState } = config;
  const cfg = { ...noState, socket: path.join(root, 'no-state.sock') };
  const first = engine(cfg);
  const e = { ...spec('c0ffee00ad05', ['cmd', '/S', '/C', 'wait']), ports: [] };
  const started = await first.start(e, { dir: await runDir('ad05') });
  const other = loadHcsApi({ computecore: coreLib, kernel32: coreLib });
  const before = await HcsComputeSystem.open(other, e.id);
  assert.equal((await before.properties())?.State, 'Running');
  await before.close();
  await first.dispose();
  await crash(started.monitorPid);
  await sleep(200);
  await assert.rejects(HcsComputeSystem.open(other, e.id), (err: unknown) => err instanceof HcsError, 'ShouldTerminateOnLastHandleClosed ended it');
});

test("a restarted supervisor ends its data root's compute systems that no record claims, and no one else's", { skip, timeout: 60_000 }, async () => {
  const first = engine();
  const f = { ...spec('c0ffee00ad06', ['cmd', '/S', '/C', 'wait']), ports: [] };
  const started = await first.start(f, { dir: await runDir('ad06') });
  await first.dispose();
  await crash(started.monitorPid);
  // Two systems made by hand: one with this root's Owner but no record (a lost record), one another root's.
  const other = loadHcsApi({ computecore: coreLib, kernel32: coreLib });
  const doc = (owner: string) => ({ Owner: owner, SchemaVersion: { Major: 2, Minor: 1 }, ShouldTerminateOnLastHandleClosed: false, Container: {} });
  for (const [id, owner] of [['c0ffee00lost', supervisorOwner(config.stateDir!)], ['c0ffee00else', 'silo-another-root']]) {
    const sys = await HcsComputeSystem.create(other, id, doc(owner));
    await sys.start();
    await sys.close();
  }

  const second = engine();
  assert.deepEqual(await second.list(), [{ id: f.id, pid: started.pid }], 'the recorded container is re-adopted');
  await assert.rejects(HcsComputeSystem.open(other, 'c0ffee00lost'), (e: unknown) => e instanceof HcsError, "this root's unclaimed system was terminated");
  const kept = await HcsComputeSystem.open(other, 'c0ffee00else');
  assert.equal((await kept.properties())?.State, 'Running', "another root's system is left alone");
  await kept.terminate();
  await kept.close();
  await second.delete(f.id);
  await second.wait(f.id);
  await second.dispose();
});
