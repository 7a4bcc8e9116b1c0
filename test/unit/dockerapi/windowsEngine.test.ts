// The Docker API served over an engine whose platform is Windows (fixtureWindowsPlatform: the real
// Windows isolation and run-ability rules, doubles for the snapshotter, runtime and host files), spoken
// to over HTTP on a Unix socket: OSType windows everywhere, `--isolation hyperv` and Windows binds and
// pipes reaching the ContainerSpec and, through the real HCS document code, MappedDirectories and
// MappedPipes. And a Linux engine answering `--isolation hyperv` with Docker's error shape.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { listenDockerApi } from '../../../engine/src/dockerapi/deferredServer';
import type { DockerApiServer } from '../../../engine/src/dockerapi/server';
import { mappedStorage } from '../../../engine/src/platform/windows/documents/computeSystem';
import { Engine } from '../../../engine/src/service/engine';
import { fixtureWindowsPlatform, FixtureWindowsSnapshotter, FixtureRecordingRuntime } from './fixtureWindowsPlatform';

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function call(socketPath: string, method: string, url: string, body?: unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({ socketPath, method, path: url, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // plain text (ping)
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

const EMPTY_TAR = Buffer.alloc(1024);

let root = '';
let engine: Engine;
let api: DockerApiServer;
let sock = '';
const hostDirs = ['C:\\host\\dir', 'c:\\x'];

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'silo-winapi-'));
  engine = new Engine(root, fixtureWindowsPlatform(root, { hyperv: true, hostDirs }));
  await engine.init();
  await engine.images.importRootfs(Readable.from(EMPTY_TAR), {
    ref: 'nanoserver:fixture',
    platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2655' },
    changes: ['CMD ["cmd.exe", "/c", "echo hi"]'],
  });
  sock = path.join(root, 'docker.sock');
  api = await listenDockerApi(engine, sock);
});

after(async () => {
  await api?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test('a Windows engine says windows in /_ping, /version and /info, with its isolations and storage driver', async () => {
  const ping = await call(sock, 'GET', '/_ping');
  assert.equal(ping.headers.ostype, 'windows');
  const version = await call(sock, 'GET', '/v1.41/version');
  assert.equal(version.body.Os, 'windows');
  assert.equal(version.body.KernelVersion, '10.0.20348.2655');
  const info = await call(sock, 'GET', '/v1.41/info');
  assert.equal(info.body.OSType, 'windows');
  assert.equal(info.body.Driver, 'windowsfilter');
  assert.equal(info.body.Isolation, 'process');
  assert.equal(info.body.CgroupDriver, '');
  assert.deepEqual(info.body.SecurityOptions, []);
});

test('create with Isolation hyperv and Windows binds and pipes gives the ContainerSpec HCS maps', async () => {
  const r = await call(sock, 'POST', '/v1.41/containers/create?name=winapp&platform=windows/amd64', {
    Image: 'nanoserver:fixture',
    HostConfig: {
      Isolation: 'hyperv',
      Binds: ['C:\\host\\dir:C:\\app', 'c:\\x:c:\\y:ro', '\\\\.\\pipe\\x:\\\\.\\pipe\\x'],
      Mounts: [{ Type: 'npipe', Source: '\\\\.\\pipe\\docker_engine', Target: '\\\\.\\pipe\\docker_engine' }],
    },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const rec = await engine.containers.resolve(r.body.Id);
  assert.equal(rec.spec.os, 'windows');
  assert.equal(rec.spec.isolation, 'hyperv');
  assert.deepEqual(rec.spec.process.args, ['cmd.exe', '/c', 'echo hi']);
  assert.deepEqual(rec.spec.mounts, [
    { source: 'C:\\host\\dir', target: 'C:\\app', readonly: false },
    { source: 'c:\\x', target: 'c:\\y', readonly: true },
    { source: '\\\\.\\pipe\\x', target: '\\\\.\\pipe\\x', readonly: false },
    { source: '\\\\.\\pipe\\docker_engine', target: '\\\\.\\pipe\\docker_engine', readonly: false },
  ]);
  assert.equal(rec.spec.rootfs[0].type, 'windows-layer');
  // The real HCS document code turns the spec's mounts into the compute system's storage.
  assert.deepEqual(mappedStorage(rec.spec), {
    dirs: [
      { HostPath: 'C:\\host\\dir', ContainerPath: 'C:\\app' },
      { HostPath: 'c:\\x', ContainerPath: 'C:\\y', ReadOnly: true },
    ],
    pipes: [
      { ContainerPipeName: 'x', HostPath: '\\\\.\\pipe\\x' },
      { ContainerPipeName: 'docker_engine', HostPath: '\\\\.\\pipe\\docker_engine' },
    ],
  });
  const inspect = await call(sock, 'GET', '/v1.41/containers/winapp/json');
  assert.equal(inspect.body.HostConfig.Isolation, 'hyperv');
  assert.equal(inspect.body.Platform, 'windows');
});

test('Windows create refuses what Docker on Windows refuses, and what Silo lacks, creating nothing', async () => {
  const before = (await engine.containers.all()).length;
  const cases: Array<[unknown, number, RegExp]> = [
    [{ Binds: ['/host:/app'] }, 400, /invalid volume specification: '\/host:\/app'/],
    [{ Binds: ['C:\\host\\dir:C:\\'] }, 400, /destination path cannot be `c:` or `c:\\`/],
    [{ Binds: ['\\\\.\\pipe\\x:C:\\pipe'] }, 400, /'C:\\pipe' is not a valid pipe path/],
    [{ Binds: ['D:\\missing:C:\\data'] }, 400, /bind source path does not exist: D:\\missing/],
    [{ Binds: ['data:C:\\data'] }, 501, /volumes are not supported by Silo yet/],
    [{ Mounts: [{ Type: 'bind', Source: '\\\\.\\pipe\\x', Target: '\\\\.\\pipe\\x' }] }, 400, /cannot map/],
    [{ Isolation: 'sandbox' }, 400, /invalid isolation "sandbox"/],
  ];
  for (const [host, status, message] of cases) {
    const r = await call(sock, 'POST', '/v1.41/containers/create', { Image: 'nanoserver:fixture', HostConfig: host });
    assert.equal(r.status, status, JSON.stringify(host));
    assert.match(r.body.message, message, JSON.stringify(host));
  }
  const wrong = await call(sock, 'POST', '/v1.41/containers/create?platform=linux/amd64', { Image: 'nanoserver:fixture' });
  assert.equal(wrong.status, 404);
  assert.match(wrong.body.message, /image with reference nanoserver:fixture was found but does not match the specified platform: wanted linux\/amd64, actual: windows\/amd64/);
  assert.equal((await engine.containers.all()).length, before);
});

test('a Windows host without Hyper-V refuses --isolation hyperv with one sentence', async () => {
  const r2 = fs.mkdtempSync(path.join(os.tmpdir(), 'silo-winapi-'));
  const e2 = new Engine(r2, fixtureWindowsPlatform(r2, { hyperv: false, hostDirs }));
  await e2.init();
  await e2.images.importRootfs(Readable.from(EMPTY_TAR), { ref: 'nanoserver:fixture', platform: { os: 'windows', architecture: 'amd64' }, changes: ['CMD ["cmd.exe"]'] });
  const s2 = await listenDockerApi(e2, path.join(r2, 'docker.sock'));
  try {
    const r = await call(path.join(r2, 'docker.sock'), 'POST', '/v1.41/containers/create', { Image: 'nanoserver:fixture', HostConfig: { Isolation: 'hyperv' } });
    assert.equal(r.status, 400);
    assert.match(r.body.message, /^Hyper-V isolation needs the Hyper-V feature, which this host lacks: /);
  } finally {
    await s2.close();
    fs.rmSync(r2, { recursive: true, force: true });
  }
});

test("a Linux engine answers --isolation hyperv with Docker's error shape and one clear message", async () => {
  const r3 = fs.mkdtempSync(path.join(os.tmpdir(), 'silo-linapi-'));
  const platform = { os: 'linux' as const, snapshotter: new FixtureWindowsSnapshotter(), runtime: new FixtureRecordingRuntime(), isolations: ['process' as const], facts: () => ({}) };
  const e3 = new Engine(r3, platform);
  await e3.init();
  const s3 = await listenDockerApi(e3, path.join(r3, 'docker.sock'));
  try {
    const r = await call(path.join(r3, 'docker.sock'), 'POST', '/v1.41/containers/create', { Image: 'busybox', HostConfig: { Isolation: 'hyperv' } });
    assert.equal(r.status, 400);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(Object.keys(r.body), ['message']);
    assert.equal(r.body.message, 'invalid isolation "hyperv" on linux: Hyper-V isolation is for Windows containers on a Windows host: leave --isolation unset for Linux containers');
    assert.equal((await call(path.join(r3, 'docker.sock'), 'GET', '/_ping')).headers.ostype, 'linux');
  } finally {
    await s3.close();
    fs.rmSync(r3, { recursive: true, force: true });
  }
});
