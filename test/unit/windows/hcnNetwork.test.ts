// Contract tests of Windows container networking (-p) through the koffi bindings against
// test/fixtures/hcs/fixture_computenetwork.c (computenetwork.dll's exports, in memory) and, for the
// whole run path, fixture_computecore.c: the NAT network found or created by name, an endpoint per
// container carrying its port mappings, a namespace the ComputeSystem names, all removed at exit.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import koffi from 'koffi';
import { HcnNatNetwork, loadHcnApi, type HcnApi } from '../../../engine/src/platform/windows/hcn/natNetwork';
import { loadHcsApi, type HcsApi } from '../../../engine/src/platform/windows/hcs/api';
import { HcsRuntime } from '../../../engine/src/platform/windows/runtime';
import type { WindowsLayerMounter } from '../../../engine/src/platform/windows/layerMount';
import { windowsLayerMount } from '../../../engine/src/platform/windows/windowsLayerMount';
import type { ContainerSpec, PortMapping } from '../../../engine/src/runtime/runtime';
import { containerFiles, MonitorConnection } from '../../../engine/src/runtime/monitor';
import { SiloError } from '../../../engine/src/errors';
import { buildHcsFixture, skipWithoutCompiler as skip } from './hcsFixture';

let hcnFixture: { lib: string; cleanup: () => void } | undefined;
let coreFixture: { lib: string; cleanup: () => void } | undefined;
let hcn: HcnApi;
let hcs: HcsApi;
let hcnLog: () => string[];
let hcnReset: () => void;
let outstanding: () => number;
let namespaceEndpoints: (id: string) => string;
let lastConfiguration: () => string;

before(() => {
  if (skip) return;
  hcnFixture = buildHcsFixture('computenetwork');
  coreFixture = buildHcsFixture('computecore');
  hcn = loadHcnApi({ computenetwork: hcnFixture.lib, ole32: hcnFixture.lib });
  hcs = loadHcsApi({ computecore: coreFixture.lib, kernel32: coreFixture.lib });
  const fx = koffi.load(hcnFixture.lib);
  const log = fx.func('const char *FixtureHcnLog(void)');
  hcnLog = () => (log() as string).split('\n').filter((l) => l !== '');
  hcnReset = fx.func('void FixtureHcnReset(void)') as () => void;
  const count = fx.func('long FixtureHcnOutstandingStrings(void)');
  outstanding = () => Number(count());
  namespaceEndpoints = fx.func('const char *FixtureHcnNamespaceEndpoints(const char *id)') as (id: string) => string;
  const core = koffi.load(coreFixture.lib);
  const last = core.func('void *FixtureLastConfiguration(void)');
  lastConfiguration = () => {
    const p = last();
    const s = koffi.decode.string16(p) as string;
    hcs.free(p);
    return s;
  };
});

after(() => {
  hcnFixture?.cleanup();
  coreFixture?.cleanup();
});

beforeEach(() => {
  if (!skip) hcnReset();
});

const tcp = (hostPort: number, containerPort: number, hostIp = '0.0.0.0'): PortMapping => ({ hostIp, hostPort, containerPort, protocol: 'tcp' });

test('the NAT network is created once and found by name afterwards', { skip }, async () => {
  const a = new HcnNatNetwork(() => hcn, { name: 'silo-nat-1', subnet: '172.30.0.0/16' });
  const id = await a.ensure();
  assert.equal(await a.ensure(), id);
  const b = new HcnNatNetwork(() => hcn, { name: 'silo-nat-1', subnet: '172.30.0.0/16' });
  assert.equal(await b.ensure(), id, 'a restarted engine finds its network');
  const creates = hcnLog().filter((l) => l.startsWith('HcnCreateNetwork'));
  assert.equal(creates.length, 1);
  const doc = JSON.parse(creates[0].slice('HcnCreateNetwork '.length));
  assert.equal(doc.Type, 'NAT');
  assert.equal(doc.Name, 'silo-nat-1');
  assert.equal(doc.Ipams[0].Subnets[0].IpAddressPrefix, '172.30.0.0/16');
  assert.equal(outstanding(), 0, 'every returned string freed with CoTaskMemFree');
});

test('-p becomes an endpoint with PortMapping policies in a namespace, removed on detach', { skip }, async () => {
  const net = new HcnNatNetwork(() => hcn, { name: 'silo-nat-2', subnet: '172.31.0.0/16' });
  const networkId = await net.ensure();
  const a = await net.attach([tcp(8080, 80), { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' }]);
  assert.match(a.ipAddress ?? '', /^172\.30\.0\.\d+$/);
  assert.equal(namespaceEndpoints(a.namespaceId), a.endpointId, 'the endpoint is in the namespace');
  const ep = JSON.parse(hcnLog().find((l) => l.startsWith('HcnCreateEndpoint'))!.slice('HcnCreateEndpoint '.length));
  assert.equal(ep.HostComputeNetwork, networkId);
  assert.deepEqual(ep.Policies, [
    { Type: 'PortMapping', Settings: { Protocol: 6, InternalPort: 80, ExternalPort: 8080 } },
    { Type: 'PortMapping', Settings: { Protocol: 17, InternalPort: 53, ExternalPort: 5353, VIP: '127.0.0.1' } },
  ]);
  assert.equal(ep.HostComputeNamespace, undefined, 'read-only field never sent');
  await net.detach(a);
  await net.detach(a); // already gone is fine
  assert.equal(namespaceEndpoints(a.namespaceId), '');
  assert.equal(outstanding(), 0);
});

test('a host port another container publishes is refused with one line, and nothing is left', { skip }, async () => {
  const net = new HcnNatNetwork(() => hcn, { name: 'silo-nat-3', subnet: '172.29.0.0/16' });
  const first = await net.attach([tcp(9090, 80)]);
  hcnReset();
  await assert.rejects(net.attach([tcp(9090, 8080)]), (err: unknown) => {
    assert.ok(err instanceof SiloError);
    assert.equal(err.kind, 'FailedPrecondition');
    assert.match(err.line, /host port is already published.*HCN_E_PORT_ALREADY_EXISTS.*: publish a different host port with -p$/);
    return true;
  });
  assert.ok(!hcnLog().some((l) => l.startsWith('HcnCreateNamespace')), 'no namespace made for a failed endpoint');
  await net.detach(first);
  assert.equal(outstanding(), 0);
});

class FixtureLayerMounter implements WindowsLayerMounter {
  async layerId() {
    return '00000000-0000-5000-8000-000000000001';
  }
  async mount() {
    return '\\\\?\\Volume{5a8c0f2e-1111-2222-3333-444455556666}\\';
  }
  async unmount() {}
}

test('a Windows container with -p names its namespace in the ComputeSystem; exit removes the endpoint', { skip }, async () => {
  const net = new HcnNatNetwork(() => hcn, { name: 'silo-nat-4', subnet: '172.28.0.0/16' });
  const runtime = new HcsRuntime({ api: () => hcs, mounter: new FixtureLayerMounter(), hostCpuCount: 2, hasUtilityVm: () => false, platform: 'win32', shutdownGraceMs: 200, network: net });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'silo-hcn-rt-'));
  const spec: ContainerSpec = {
    id: 'c0ffee0000aa',
    os: 'windows',
    isolation: 'process',
    rootfs: [windowsLayerMount({ scratchPath: 'C:\\silo\\containers\\c0ffee0000aa', parentLayerPaths: ['C:\\silo\\layers\\base'] })],
    process: { args: ['cmd', '/S', '/C', 'echo up && wait'], env: [], cwd: 'C:\\', user: 'ContainerUser', terminal: false, stdin: false },
    hostname: 'web',
    mounts: [],
    ports: [tcp(8081, 80)],
    resources: {},
    stopSignal: 'SIGTERM',
  };
  try {
    await runtime.start(spec, { dir });
    const doc = JSON.parse(lastConfiguration());
    const ns = doc.Container.Networking.Namespace as string;
    const endpoint = namespaceEndpoints(ns);
    assert.match(endpoint, /^[0-9a-f-]{36}$/, 'the namespace the document names holds the endpoint');
    const conn = await MonitorConnection.connect(containerFiles(dir).socket);
    conn!.signal(9);
    await conn!.exited;
    conn!.close();
    await runtime.wait(spec.id);
    assert.equal(namespaceEndpoints(ns), '', 'namespace removed');
    assert.ok(hcnLog().includes(`HcnDeleteEndpoint ${endpoint}`), 'endpoint removed, host port free again');
    assert.equal(outstanding(), 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
