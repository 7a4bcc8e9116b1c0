import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCommandLine } from '../../../client/src/model/commandLine';
import { resolveDataRoot } from '../../../client/src/model/dataRoot';
import { containerJoin, defaultRemoteRoot, plan, toRemotePath, type PlanContext } from '../../../client/src/model/debugPlan';
import { createParamsFromTask } from '../../../client/src/model/runOptions';
import { parseSiloAddress, formatSiloPath } from '../../../client/src/model/siloUri';

const ctx: PlanContext = { workspaceFolder: '/home/me/app', hostOs: 'linux', siloCommand: ['/usr/bin/node', '/ext/dist/silo.js'], containerName: 'silo-debug-x' };

test('a silo-run task becomes create parameters with docker-style ports, env and workspace-relative volumes', () => {
  const p = createParamsFromTask(
    { type: 'silo-run', image: 'busybox:latest', containerName: 'web', ports: ['127.0.0.1:8080:80'], env: ['A=1', 'HOME_FROM_EDITOR'], volumes: ['./site:/www:ro'], command: ['httpd', '-f'], remove: true },
    { workspaceFolder: '/ws', env: { HOME_FROM_EDITOR: '/root' } },
  );
  assert.equal(p.name, 'web');
  assert.deepEqual(p.ports, [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
  assert.deepEqual(p.env, ['A=1', 'HOME_FROM_EDITOR=/root']);
  assert.deepEqual(p.binds, [{ source: '/ws/site', target: '/www', readonly: true }]);
  assert.deepEqual(p.cmd, ['httpd', '-f']);
  assert.equal(p.autoRemove, true);
});

test('a malformed port in a task is refused with the engine\'s one-sentence error', () => {
  assert.throws(() => createParamsFromTask({ type: 'silo-run', image: 'x', ports: ['80:http'] }), /invalid publish spec "80:http"/);
});

test('node debugging runs node --inspect with the port published on loopback and hands over to pwa-node', () => {
  const p = plan({ type: 'silo', request: 'launch', name: 'dbg', image: 'node:20', platform: 'node', node: { program: 'server.js', inspectPort: 9339 } }, ctx);
  assert.deepEqual(p.create.cmd, ['node', '--inspect=0.0.0.0:9339', 'server.js']);
  assert.deepEqual(p.create.ports, [{ hostIp: '127.0.0.1', hostPort: 9339, containerPort: 9339, protocol: 'tcp' }]);
  assert.deepEqual(p.create.binds, [{ source: '/home/me/app', target: '/usr/src/app', readonly: true }]);
  assert.equal(p.create.name, 'silo-debug-x');
  assert.deepEqual(
    { type: p.debugger.type, request: p.debugger.request, port: p.debugger.port, localRoot: p.debugger.localRoot, remoteRoot: p.debugger.remoteRoot },
    { type: 'pwa-node', request: 'attach', port: 9339, localRoot: '/home/me/app', remoteRoot: '/usr/src/app' },
  );
});

test('.NET debugging mounts vsdbg at create time and drives it through `silo exec -i` (Windows paths in Windows containers)', () => {
  const p = plan({ type: 'silo', request: 'launch', name: 'net', image: 'mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022', platform: 'netCore', os: 'windows', isolation: 'hyperv', netCore: { vsdbgPath: 'C:\\Users\\me\\.vsdbg', dll: 'App.dll' } }, { ...ctx, workspaceFolder: 'C:\\src\\App', hostOs: 'windows' });
  assert.deepEqual(p.create.binds?.[0], { source: 'C:\\Users\\me\\.vsdbg', target: 'C:\\remote_debugger', readonly: true });
  assert.equal(p.create.isolation, 'hyperv');
  const pipe = p.debugger.pipeTransport as { pipeProgram: string; pipeArgs: string[]; debuggerPath: string };
  assert.equal(p.debugger.type, 'coreclr');
  assert.deepEqual(pipe.pipeArgs, ['/ext/dist/silo.js', 'exec', '-i', 'silo-debug-x']);
  assert.equal(pipe.debuggerPath, 'C:\\remote_debugger\\vsdbg.exe');
  assert.deepEqual(p.debugger.args, ['C:\\app\\App.dll']);
});

test('.NET debugging without a vsdbg folder says what to set', () => {
  assert.throws(() => plan({ type: 'silo', request: 'launch', name: 'n', image: 'x', platform: 'netCore' }, ctx), /set netCore\.vsdbgPath/);
});

test('python debugging mounts debugpy and maps the workspace to the app folder', () => {
  const p = plan({ type: 'silo', request: 'launch', name: 'py', image: 'python:3.12', platform: 'python', python: { debugpyPath: '/opt/debugpy', program: 'main.py' } }, ctx);
  assert.deepEqual(p.create.cmd, ['python3', '-m', 'debugpy', '--listen', '0.0.0.0:5678', '--wait-for-client', 'main.py']);
  assert.deepEqual(p.create.binds?.[0], { source: '/opt/debugpy', target: '/debugpy/debugpy', readonly: true });
  assert.ok(p.create.env?.includes('PYTHONPATH=/debugpy'));
  assert.deepEqual(p.debugger.pathMappings, [{ localRoot: '/home/me/app', remoteRoot: '/app' }]);
});

test('python debugging mounts a folder holding debugpy (Debian\'s dist-packages) as the PYTHONPATH entry itself', () => {
  const p = plan({ type: 'silo', request: 'launch', name: 'py', image: 'python:3.12', platform: 'python', python: { debugpyPath: '/usr/lib/python3/dist-packages' } }, ctx);
  assert.deepEqual(p.create.binds?.[0], { source: '/usr/lib/python3/dist-packages', target: '/debugpy', readonly: true });
  const w = plan({ type: 'silo', request: 'launch', name: 'py', image: 'python', platform: 'python', os: 'windows', python: { debugpyPath: 'C:\\tools\\debugpy\\' } }, ctx);
  assert.deepEqual(w.create.binds?.[0], { source: 'C:\\tools\\debugpy\\', target: 'C:\\debugpy\\debugpy', readonly: true });
});

test('path mapping puts a workspace file at its place in the container, and refuses files outside', () => {
  assert.equal(toRemotePath('/home/me/app/src/a.js', '/home/me/app', '/usr/src/app', 'linux'), '/usr/src/app/src/a.js');
  assert.equal(toRemotePath('/home/me/other.js', '/home/me/app', '/usr/src/app', 'linux'), undefined);
  assert.equal(toRemotePath('/home/me/apple/x.js', '/home/me/app', '/usr/src/app', 'linux'), undefined);
  assert.equal(toRemotePath('c:\\Src\\App\\Controllers\\Home.cs', 'C:\\src\\app', 'C:\\app', 'windows', 'windows'), 'C:\\app\\Controllers\\Home.cs');
  assert.equal(containerJoin('windows', 'C:\\app', 'bin/Debug'), 'C:\\app\\bin\\Debug');
  assert.equal(defaultRemoteRoot('python', 'windows'), 'C:\\app');
});

test('the data root comes from the setting (with ~), else the engine default', () => {
  assert.equal(resolveDataRoot('~/silo-data', {}, '/home/me'), '/home/me/silo-data');
  assert.equal(resolveDataRoot('', { SILO_ROOT: '/tmp/r' }), '/tmp/r');
});

test('silo: addresses round-trip and refuse foreign authorities', () => {
  const a = { view: 'image' as const, containerId: 'abc123', path: '/etc/hosts' };
  assert.deepEqual(parseSiloAddress('image', formatSiloPath(a)), a);
  assert.equal(parseSiloAddress('elsewhere', '/abc/etc'), undefined);
});

test('the run form splits a command line like a shell', () => {
  assert.deepEqual(splitCommandLine(`sh -c 'echo "hi there"; sleep 1' ""`), ['sh', '-c', 'echo "hi there"; sleep 1', '']);
});
