// HcsRuntime through the koffi bindings against the computecore test fixture: the whole Windows run
// path (documents, compute system, process, log, exit record, control socket) on Linux.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadHcsApi, type HcsApi } from '../../../engine/src/platform/windows/hcs/api';
import { HcsRuntime } from '../../../engine/src/platform/windows/runtime';
import type { WindowsLayerMounter } from '../../../engine/src/platform/windows/layerMount';
import type { WindowsLayerChain } from '../../../engine/src/platform/windows/windowsLayerMount';
import { windowsLayerMount } from '../../../engine/src/platform/windows/windowsLayerMount';
import { containerFiles, execFiles, MonitorConnection, readExit } from '../../../engine/src/runtime/monitor';
import { readLog } from '../../../engine/src/runtime/logs';
import type { ContainerSpec } from '../../../engine/src/runtime/runtime';
import { SiloError } from '../../../engine/src/errors';
import { buildHcsFixture, skipWithoutCompiler as skip } from './hcsFixture';

/** TEST FIXTURE: stands in for vmcompute's Activate/Prepare/GetLayerMountPath. */
class FixtureLayerMounter implements WindowsLayerMounter {
  mounted: string[] = [];
  unmounted: string[] = [];
  async layerId(p: string) {
    return `00000000-0000-5000-8000-${Buffer.from(p).toString('hex').slice(-12).padStart(12, '0')}`;
  }
  async mount(chain: WindowsLayerChain) {
    this.mounted.push(chain.scratchPath);
    return '\\\\?\\Volume{5a8c0f2e-1111-2222-3333-444455556666}\\';
  }
  async unmount(chain: WindowsLayerChain) {
    this.unmounted.push(chain.scratchPath);
  }
}

let fixture: { lib: string; cleanup: () => void } | undefined;
let api: HcsApi;
let root = '';

before(() => {
  if (skip) return;
  fixture = buildHcsFixture();
  api = loadHcsApi({ computecore: fixture.lib, kernel32: fixture.lib });
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'silo-hcs-rt-'));
});
after(() => {
  fixture?.cleanup();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

let n = 0;
function setup(args: string[], over: Partial<ContainerSpec['process']> = {}) {
  const id = `c0ffee${String(++n).padStart(6, '0')}`;
  const dir = path.join(root, id.slice(-4));
  fs.mkdirSync(dir);
  const spec: ContainerSpec = {
    id,
    os: 'windows',
    isolation: 'process',
    rootfs: [windowsLayerMount({ scratchPath: `C:\\silo\\containers\\${id}`, parentLayerPaths: ['C:\\silo\\layers\\base'] })],
    process: { args, env: ['A=1'], cwd: 'C:\\', user: 'ContainerUser', terminal: false, stdin: false, ...over },
    hostname: id,
    mounts: [],
    ports: [],
    resources: {},
    stopSignal: 'SIGTERM',
  };
  const mounter = new FixtureLayerMounter();
  const runtime = new HcsRuntime({ api: () => api, mounter, hostCpuCount: 2, hasUtilityVm: () => true, platform: 'win32', shutdownGraceMs: 200 });
  return { spec, dir, mounter, runtime, files: containerFiles(dir) };
}

async function logLines(file: string) {
  const out: string[] = [];
  for await (const l of readLog(file)) out.push(`${l.stream}: ${l.log}`);
  return out;
}

test('a Windows container runs to its exit: log, exit record, scratch unmounted', { skip }, async () => {
  const { spec, dir, mounter, runtime, files } = setup(['cmd', '/S', '/C', 'echo one && stderr two && exit 7']);
  const started = await runtime.start(spec, { dir });
  assert.ok(started.pid >= 1000);
  assert.equal(started.monitorPid, process.pid);
  await runtime.wait(spec.id);
  assert.equal((await readExit(files.exit))?.exitCode, 7);
  assert.deepEqual((await logLines(files.log)).sort(), ['stderr: two\n', 'stdout: one\n']);
  assert.deepEqual(mounter.mounted, [`C:\\silo\\containers\\${spec.id}`]);
  assert.deepEqual(mounter.unmounted, mounter.mounted);
  assert.deepEqual(api.hub.pending, { completions: 0, listeners: 0 }, 'every handle closed');
  await runtime.delete(spec.id);
});

test('the control socket speaks the monitor frames: signal', { skip }, async () => {
  const { spec, dir, runtime, files } = setup(['wait']);
  await runtime.start(spec, { dir });
  const conn = await MonitorConnection.connect(files.socket);
  assert.ok(conn, 'the control socket accepts connections');
  conn.signal(2);
  const exit = await conn.exited;
  assert.equal(exit?.exitCode, 0xc000013a);
  conn.close();
  await runtime.wait(spec.id);
});

test('the control socket speaks the monitor frames: stdin and close-stdin', { skip }, async () => {
  const { spec, dir, runtime, files } = setup(['cat'], { stdin: true });
  await runtime.start(spec, { dir });
  const conn = await MonitorConnection.connect(files.socket);
  assert.ok(conn);
  conn.writeStdin(Buffer.from('typed line\n'));
  conn.closeStdin();
  assert.equal((await conn.exited)?.exitCode, 0);
  conn.close();
  await runtime.wait(spec.id);
  assert.deepEqual(await logLines(files.log), ['stdout: typed line\n']);
});

test('exec runs a second process with its own log and exit record', { skip }, async () => {
  const { spec, dir, runtime, files } = setup(['wait']);
  await runtime.start(spec, { dir });
  const e = execFiles(dir, '1');
  await runtime.exec(spec, '1', { args: ['cmd', '/S', '/C', 'echo from exec'], env: [], cwd: '', user: '', terminal: false, stdin: false }, { dir });
  for (let i = 0; i < 100 && !(await readExit(e.exit)); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await readExit(e.exit))?.exitCode, 0);
  assert.deepEqual(await logLines(e.log), ['stdout: from exec\n']);
  const conn = await MonitorConnection.connect(files.socket);
  conn!.signal(9);
  assert.equal((await conn!.exited)?.exitCode, 1);
  conn!.close();
  await runtime.wait(spec.id);
});

test('a create that HCS refuses leaves nothing mounted and says what to do', { skip }, async () => {
  const { spec, dir, mounter, runtime } = setup(['cmd']);
  spec.id = 'mismatch' + spec.id;
  await assert.rejects(runtime.start(spec, { dir }), (err: unknown) => err instanceof SiloError && /--isolation hyperv/.test(err.line));
  assert.deepEqual(mounter.unmounted, mounter.mounted);
});

test('on a Linux host a Windows container fails at once with one line', async () => {
  const mounter = new FixtureLayerMounter();
  const runtime = new HcsRuntime({ api: () => { throw new Error('not reached'); }, mounter, hostCpuCount: 2, hasUtilityVm: () => true, platform: 'linux' });
  const { spec, dir } = { spec: { ...setupSpecOnly() }, dir: os.tmpdir() };
  await assert.rejects(runtime.start(spec, { dir }), (err: unknown) => {
    assert.ok(err instanceof SiloError);
    assert.equal(err.kind, 'NotImplemented');
    assert.match(err.line, /^Windows containers need a Windows host, and this one is linux: /);
    return true;
  });
  assert.deepEqual(mounter.mounted, []);
});

function setupSpecOnly(): ContainerSpec {
  return {
    id: 'x', os: 'windows', isolation: 'process', rootfs: [], process: { args: ['cmd'], env: [], cwd: '', user: '', terminal: false, stdin: false },
    hostname: '', mounts: [], ports: [], resources: {}, stopSignal: 'SIGTERM',
  };
}

test('removing a running container ends it: exit record written, scratch unmounted, handles closed', { skip }, async () => {
  const { spec, dir, mounter, runtime, files } = setup(['cmd', '/S', '/C', 'echo started && wait']);
  await runtime.start(spec, { dir });
  await runtime.delete(spec.id);
  await runtime.wait(spec.id);
  assert.equal((await readExit(files.exit))?.exitCode, 1);
  assert.deepEqual(mounter.unmounted, mounter.mounted);
  assert.deepEqual(api.hub.pending, { completions: 0, listeners: 0 }, 'every handle closed');
});
