// Contract tests of the koffi bindings and the HCS client against test/fixtures/hcs/fixture_computecore.c,
// a C library exporting the same function names and signatures as computecore.dll (and LocalFree),
// compiled here with the system compiler. Completions and events arrive from other threads, stdio
// handles are pipe fds, and HcsCloseComputeSystem queues a callback before it waits for callbacks in
// flight, as HCS does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import koffi from 'koffi';
import { loadHcsApi, type HcsApi } from '../../../engine/src/platform/windows/hcs/api';
import { HcsComputeSystem } from '../../../engine/src/platform/windows/hcs/computeSystem';
import { hcsTypes } from '../../../engine/src/platform/windows/bindings/types';
import { processContainerDocument } from '../../../engine/src/platform/windows/documents/computeSystem';
import { processParameters } from '../../../engine/src/platform/windows/documents/processParameters';
import { HcsError } from '../../../engine/src/platform/windows/hresult';
import type { ContainerSpec, ProcessSpec } from '../../../engine/src/runtime/runtime';
import { windowsLayerMount } from '../../../engine/src/platform/windows/windowsLayerMount';
import { buildHcsFixture, skipWithoutCompiler as skip } from './hcsFixture';

let fixture: { lib: string; cleanup: () => void } | undefined;
let lib = '';
let api: HcsApi;
let outstanding: () => number;
let lastModify: () => string;

before(() => {
  if (skip) return;
  fixture = buildHcsFixture();
  lib = fixture.lib;
  api = loadHcsApi({ computecore: lib, kernel32: lib });
  const fx = koffi.load(lib);
  const count = fx.func('long FixtureOutstandingStrings(void)');
  outstanding = () => Number(count());
  const last = fx.func('void *FixtureLastProcessModify(void)');
  lastModify = () => {
    const p = last();
    const s = koffi.decode.string16(p);
    api.free(p);
    return s;
  };
});

after(() => {
  fixture?.cleanup();
});

function spec(id: string): ContainerSpec {
  return {
    id,
    os: 'windows',
    isolation: 'process',
    rootfs: [windowsLayerMount({ scratchPath: 'C:\\silo\\c', parentLayerPaths: ['C:\\silo\\l\\base'] })],
    process: proc([]),
    hostname: id.slice(0, 12),
    mounts: [],
    ports: [],
    resources: {},
    stopSignal: 'SIGTERM',
  };
}

function proc(args: string[], over: Partial<ProcessSpec> = {}): ProcessSpec {
  return { args, env: ['A=1'], cwd: 'C:\\', user: 'ContainerUser', terminal: false, stdin: false, ...over };
}

async function runningSystem(id: string): Promise<HcsComputeSystem> {
  const doc = processContainerDocument(spec(id), {
    owner: 'silo',
    volumePath: '\\\\?\\Volume{5a8c0f2e-1111-2222-3333-444455556666}\\',
    layers: [{ Id: '1a2b3c4d-0000-5000-8000-000000000001', Path: 'C:\\silo\\l\\base' }],
    hostCpuCount: 2,
  });
  const sys = await HcsComputeSystem.create(api, id, doc);
  await sys.start();
  return sys;
}

function readAll(s: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!s) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

test('koffi struct layouts match the x64 C layouts', { skip }, () => {
  const t = hcsTypes();
  assert.equal(koffi.sizeof(t.HCS_EVENT), 24);
  assert.equal(koffi.offsetof(t.HCS_EVENT, 'EventData'), 8);
  assert.equal(koffi.sizeof(t.HCS_PROCESS_INFORMATION), 32);
  assert.equal(koffi.offsetof(t.HCS_PROCESS_INFORMATION, 'StdInput'), 8);
  assert.equal(koffi.sizeof(t.WC_LAYER_DESCRIPTOR), 32);
  assert.equal(koffi.offsetof(t.WC_LAYER_DESCRIPTOR, 'Path'), 24);
  assert.equal(koffi.sizeof(t.DriverInfo), 16);
  assert.equal(koffi.sizeof(t.RTL_OSVERSIONINFOW), 276);
});

test('create, start, run a process, stream its output, see it exit, shut down and close', { skip }, async () => {
  const sys = await runningSystem('c0ffee000001');
  const props = await sys.properties({ PropertyTypes: ['Statistics'] });
  assert.equal(props?.State, 'Running');
  assert.equal(props?.Statistics?.Memory?.MemoryUsageCommitBytes, 1048576);

  const p = await sys.createProcess(processParameters(proc(['cmd', '/S', '/C', 'echo hello from HCS && stderr oops'])));
  assert.ok(p.pid >= 1000);
  const io = p.stdio();
  assert.equal(io.stdin, undefined, 'no stdin pipe was asked for');
  const [out, err, exit] = await Promise.all([readAll(io.stdout), readAll(io.stderr), p.exited]);
  assert.equal(out, 'hello from HCS\n');
  assert.equal(err, 'oops\n');
  assert.equal(exit.exitCode, 0);
  await p.close();

  await sys.shutdown();
  assert.deepEqual(await sys.exited, { Status: 0, ExitType: 'GracefulExit' });
  await sys.close();
  assert.equal(outstanding(), 0, 'every result string was freed with the library LocalFree');
  assert.deepEqual(api.hub.pending, { completions: 0, listeners: 0 });
});

test('an exit code arrives even when the process ended before its callback was registered', { skip }, async () => {
  const sys = await runningSystem('c0ffee000002');
  const p = await sys.createProcess(processParameters(proc(['cmd', '/S', '/C', 'exit 3'])));
  const exit = await p.exited;
  assert.equal(exit.exitCode, 3);
  await p.close();
  await sys.terminate();
  await sys.close();
});

test('stdin is streamed in and closing it ends the process input', { skip }, async () => {
  const sys = await runningSystem('c0ffee000003');
  const p = await sys.createProcess(processParameters(proc(['cat'], { stdin: true })));
  const io = p.stdio();
  assert.ok(io.stdin && io.stdout);
  const out = readAll(io.stdout);
  io.stdin.end('ping\npong\n');
  assert.equal(await out, 'ping\npong\n');
  assert.equal((await p.exited).exitCode, 0);
  await p.close();
  await sys.close();
});

test('console resize and close-stdin reach HCS as ProcessModifyRequests', { skip }, async () => {
  const sys = await runningSystem('c0ffee000004');
  const p = await sys.createProcess(processParameters(proc(['cat'], { stdin: true })));
  const io = p.stdio();
  const out = readAll(io.stdout);
  await p.resizeConsole(40, 120);
  assert.equal(lastModify(), '{"Operation":"ConsoleSize","ConsoleSize":{"Height":40,"Width":120}}');
  await p.closeStdin();
  assert.equal(lastModify(), '{"Operation":"CloseHandle","CloseHandle":{"Handle":"StdIn"}}');
  assert.equal((await p.exited).exitCode, 0);
  assert.equal(await out, '');
  io.stdin?.destroy();
  await p.close();
  await sys.close();
});

test('SIGINT becomes CtrlC, SIGKILL terminates, and a dead process ignores both', { skip }, async () => {
  const sys = await runningSystem('c0ffee000005');
  const a = await sys.createProcess(processParameters(proc(['wait'])));
  await a.signal('SIGINT');
  assert.equal((await a.exited).exitCode, 0xc000013a);
  await a.signal('SIGTERM'); // already exited: not an error
  const b = await sys.createProcess(processParameters(proc(['wait'])));
  await b.signal('SIGKILL');
  assert.equal((await b.exited).exitCode, 1);
  await b.terminate();
  await Promise.all([a.close(), b.close()]);
  await sys.close();
});

test('a failed create surfaces the HRESULT and HCS event messages as one SiloError', { skip }, async () => {
  await assert.rejects(runningSystem('mismatch00001'), (err: unknown) => {
    assert.ok(err instanceof HcsError);
    assert.equal(err.kind, 'FailedPrecondition');
    assert.equal(err.hr, 0x80370101);
    assert.deepEqual(err.events, ['The container operating system does not match the host operating system.', 'fixture: image build 17763, host build 20348']);
    assert.match(err.line, /--isolation hyperv/);
    return true;
  });
  await assert.rejects(HcsComputeSystem.create(api, 'badjson00001', { Nothing: true }), (err: unknown) => err instanceof HcsError && err.kind === 'InvalidArgument');
  assert.equal(outstanding(), 0);
});

test('closing while a callback is queued does not deadlock (HcsClose* runs off the main thread)', { skip }, async () => {
  const sys = await runningSystem('c0ffee000006');
  const started = Date.now();
  // The fixture queues a SystemExited callback and then waits for it inside HcsCloseComputeSystem.
  await Promise.race([sys.close(), new Promise((_, reject) => setTimeout(() => reject(new Error('close deadlocked')), 5000))]);
  assert.ok(Date.now() - started < 5000);
  assert.deepEqual(await sys.exited, { Status: 0, ExitType: 'None' }, 'the queued callback ran before close returned');
});

test('the same close called synchronously on the main thread does deadlock (why .async is required)', { skip }, async () => {
  const script = `
    const koffi = require('koffi');
    const lib = koffi.load(${JSON.stringify(lib)});
    koffi.pointer('HS', koffi.opaque());
    koffi.struct('EV', { Type: 'uint32', EventData: 'void *', Operation: 'void *' });
    const cb = koffi.proto('void EVCB(EV *e, void *ctx)');
    const op = lib.func('void *HcsCreateOperation(void *c, void *cb)');
    const create = lib.func('int HcsCreateComputeSystem(const char16_t *id, const char16_t *cfg, void *op, void *sd, _Out_ HS *cs)');
    const wait = lib.func('int HcsWaitForOperationResult(void *op, uint32 ms, _Out_ void **doc)');
    const setcb = lib.func('int HcsSetComputeSystemCallback(HS cs, uint32 o, void *ctx, EVCB *cb)');
    const close = lib.func('void HcsCloseComputeSystem(HS cs)');
    const out = [null];
    const o = op(null, null);
    create('sync-close', '{"Container":{}}', o, null, out);
    wait(o, 0xffffffff, [null]);
    setcb(out[0], 0, 1n, koffi.register(() => {}, koffi.pointer(cb)));
    close(out[0]);
    console.log('returned');
  `;
  const child = spawn(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '../../..'), stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('timeout');
    }, 2000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c ?? 'signal');
    });
  });
  assert.equal(code, 'timeout', `a synchronous close returned: ${out}`);
  assert.equal(out, '');
});
