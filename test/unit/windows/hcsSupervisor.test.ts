// The HCS supervisor as a real separate process (started by the engine's SupervisedRuntime through
// tsx), over the computecore, vmcompute and computenetwork C fixtures: a Windows container keeps
// running, logging and answering its control socket after the engine lets go; a restarted engine
// finds the same supervisor; errors cross the pipe as the same SiloError; the supervisor leaves when
// nothing runs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SupervisedRuntime } from '../../../engine/src/platform/windows/supervisor/client';
import { supervisorSocket, type SupervisorConfig } from '../../../engine/src/platform/windows/supervisor/protocol';
import { windowsLayerMount } from '../../../engine/src/platform/windows/windowsLayerMount';
import { containerFiles, MonitorConnection, readExit } from '../../../engine/src/runtime/monitor';
import { readLog } from '../../../engine/src/runtime/logs';
import type { ContainerSpec } from '../../../engine/src/runtime/runtime';
import { SiloError } from '../../../engine/src/errors';
import { buildHcsFixture, skipWithoutCompiler as skip } from './hcsFixture';

const fixtures: Array<{ lib: string; cleanup: () => void }> = [];
let root = '';
let config: SupervisorConfig;

before(() => {
  if (skip) return;
  const [core, vm, net] = (['computecore', 'vmcompute', 'computenetwork'] as const).map((n) => buildHcsFixture(n));
  fixtures.push(core, vm, net);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'silo-hcs-sup-'));
  fs.mkdirSync(path.join(root, 'layers', 'base', 'UtilityVM'), { recursive: true });
  config = {
    socket: supervisorSocket(root),
    libraries: { computecore: core.lib, kernel32: core.lib, vmcompute: vm.lib, computenetwork: net.lib, ole32: net.lib },
    platform: 'win32',
    idleExitMs: 300,
  };
});
after(() => {
  for (const f of fixtures) f.cleanup();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const engine = () =>
  new SupervisedRuntime({
    config,
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
