import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSpec } from '../../../engine/src/runtime/runtime';
import { SiloError } from '../../../engine/src/errors';
import { processContainerDocument, storagePath } from '../../../engine/src/platform/windows/documents/computeSystem';
import { hypervContainerDocument, utilityVmImagePath } from '../../../engine/src/platform/windows/documents/containerConfigV1';
import { processParameters, environmentMap } from '../../../engine/src/platform/windows/documents/processParameters';
import { escapeWindowsArg, windowsCommandLine } from '../../../engine/src/platform/windows/documents/commandLine';
import { windowsContainerPath } from '../../../engine/src/platform/windows/documents/containerPath';
import { windowsSignal } from '../../../engine/src/platform/windows/documents/signalProcess';
import { closeStdinRequest, resizeConsoleRequest } from '../../../engine/src/platform/windows/documents/processModify';
import { ownedContainersQuery, servicePropertiesQuery, statisticsQuery } from '../../../engine/src/platform/windows/documents/propertyQuery';
import { exitCodeOf, parseProcessStatus, parseProperties, parseResultError, resultErrorMessages } from '../../../engine/src/platform/windows/documents/results';
import { endpointDocument, hcnQuery, namespaceEndpointRequest, natNetworkDocument } from '../../../engine/src/platform/windows/documents/hcnNetwork';
import { parseWindowsLayerMount, windowsLayerMount } from '../../../engine/src/platform/windows/windowsLayerMount';

const VOLUME = '\\\\?\\Volume{5a8c0f2e-1111-2222-3333-444455556666}';

function spec(over: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    id: 'c0ffee123456',
    os: 'windows',
    isolation: 'process',
    rootfs: [windowsLayerMount({ scratchPath: 'C:\\silo\\containers\\c0ffee', parentLayerPaths: ['C:\\silo\\layers\\app', 'C:\\silo\\layers\\base'] })],
    process: { args: ['cmd', '/S', '/C', 'echo hello'], env: ['PATH=C:\\Windows\\system32;C:\\Windows'], cwd: '', user: 'ContainerUser', terminal: false, stdin: false },
    hostname: 'c0ffee123456',
    mounts: [],
    ports: [],
    resources: {},
    stopSignal: 'SIGTERM',
    ...over,
  };
}

const layers = [
  { Id: '8f3c6f0e-0000-5000-8000-000000000002', Path: 'C:\\silo\\layers\\app' },
  { Id: '1a2b3c4d-0000-5000-8000-000000000001', Path: 'C:\\silo\\layers\\base' },
];

test('process-isolated container document has HCS schema v2 fields exactly', () => {
  const doc = processContainerDocument(
    spec({
      mounts: [
        { source: 'C:\\data', target: '/data', readonly: false },
        { source: 'D:\\cfg', target: 'c:/config', readonly: true },
        { source: '\\\\.\\pipe\\docker_engine', target: '\\\\.\\pipe\\docker_engine', readonly: false },
      ],
      resources: { memoryBytes: 2048 * 1024 * 1024, nanoCpus: 1e9 },
    }),
    { owner: 'silo', volumePath: VOLUME, layers, networkNamespace: '0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9', dnsSearch: ['corp.example', 'b.example'], hostCpuCount: 4 },
  );
  assert.deepEqual(doc, {
    Owner: 'silo',
    SchemaVersion: { Major: 2, Minor: 1 },
    ShouldTerminateOnLastHandleClosed: true,
    Container: {
      GuestOs: { HostName: 'c0ffee123456' },
      Storage: { Layers: layers, Path: VOLUME + '\\' },
      MappedDirectories: [
        { HostPath: 'C:\\data', ContainerPath: 'C:\\data' },
        { HostPath: 'D:\\cfg', ContainerPath: 'C:\\config', ReadOnly: true },
      ],
      MappedPipes: [{ ContainerPipeName: 'docker_engine', HostPath: '\\\\.\\pipe\\docker_engine' }],
      Memory: { SizeInMB: 2048 },
      Processor: { Maximum: 2500 },
      Networking: { Namespace: '0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9', DnsSearchList: 'corp.example,b.example' },
      RegistryChanges: {
        AddValues: [
          { Key: { Hive: 'System', Name: 'ControlSet001\\Control' }, Name: 'WaitToKillServiceTimeout', Type: 'String', StringValue: '2147483647' },
        ],
      },
    },
  });
});

test('a minimal process document sends no empty optional sections', () => {
  const doc = processContainerDocument(spec({ hostname: '' }), { owner: 'silo', volumePath: VOLUME + '\\', layers, hostCpuCount: 2 });
  assert.deepEqual(Object.keys(doc.Container).sort(), ['RegistryChanges', 'Storage']);
  assert.equal(doc.Container.Storage.Path, VOLUME + '\\');
});

test('the process document refuses what HCS would refuse later', () => {
  const host = { owner: 'silo', volumePath: VOLUME, layers, hostCpuCount: 2 };
  assert.throws(() => processContainerDocument(spec({ isolation: 'hyperv' }), host), SiloError);
  assert.throws(() => processContainerDocument(spec({ os: 'linux' }), host), /linux container/);
  assert.throws(() => processContainerDocument(spec({ resources: { pidsLimit: 10 } }), host), /process count limit/);
  assert.throws(() => processContainerDocument(spec({ resources: { nanoCpus: 3e9 } }), host), /more than this host's 2 processors/);
  assert.throws(() => processContainerDocument(spec(), { ...host, volumePath: 'C:\\not-a-volume' }), /Volume\{GUID\}/);
  assert.throws(() => processContainerDocument(spec({ mounts: [{ source: 'C:\\x', target: 'C:\\a\\..\\..\\b', readonly: false }] }), host), /'\.\.'/);
  assert.throws(() => storagePath('\\\\?\\Volume{zz}\\'), SiloError);
});

test('Hyper-V container document is the v1 ContainerConfig with HvPartition', () => {
  const doc = hypervContainerDocument(
    spec({ isolation: 'hyperv', mounts: [{ source: 'C:\\data', target: 'C:\\data', readonly: true }], resources: { nanoCpus: 1.5e9 } }),
    {
      owner: 'silo',
      scratchPath: 'C:\\silo\\containers\\c0ffee',
      layers: layers.map((l) => ({ ID: l.Id, Path: l.Path })),
      utilityVmPath: 'C:\\silo\\layers\\base\\UtilityVM',
      endpoints: ['e1bb1e61-d56f-405e-b75d-fd520cefa0cb'],
      dnsSearch: ['a.com', 'b.com'],
      hostCpuCount: 4,
      firstStart: true,
    },
  );
  assert.deepEqual(doc, {
    SystemType: 'Container',
    Name: 'c0ffee123456',
    Owner: 'silo',
    IgnoreFlushesDuringBoot: true,
    LayerFolderPath: 'C:\\silo\\containers\\c0ffee',
    Layers: [
      { ID: '8f3c6f0e-0000-5000-8000-000000000002', Path: 'C:\\silo\\layers\\app' },
      { ID: '1a2b3c4d-0000-5000-8000-000000000001', Path: 'C:\\silo\\layers\\base' },
    ],
    HostName: 'c0ffee123456',
    MappedDirectories: [{ HostPath: 'C:\\data', ContainerPath: 'C:\\data', ReadOnly: true }],
    HvPartition: true,
    EndpointList: ['e1bb1e61-d56f-405e-b75d-fd520cefa0cb'],
    DNSSearchList: 'a.com,b.com',
    MemoryMaximumInMB: 1024,
    ProcessorCount: 2,
    ProcessorMaximum: 7500,
    HvRuntime: { ImagePath: 'C:\\silo\\layers\\base\\UtilityVM' },
    TerminateOnLastHandleClosed: true,
  });
});

test('a container the HCS supervisor holds survives its last handle, in both document versions', () => {
  const v2 = processContainerDocument(spec(), { owner: 'silo', volumePath: VOLUME, layers, hostCpuCount: 2, terminateOnLastHandleClosed: false });
  assert.equal(v2.ShouldTerminateOnLastHandleClosed, false);
  const host = { owner: 'silo', scratchPath: 'C:\\s', layers: [], utilityVmPath: 'C:\\b\\UtilityVM', hostCpuCount: 2 };
  assert.equal(hypervContainerDocument(spec({ isolation: 'hyperv' }), { ...host, terminateOnLastHandleClosed: false }).TerminateOnLastHandleClosed, false);
  assert.equal(hypervContainerDocument(spec({ isolation: 'hyperv' }), host).TerminateOnLastHandleClosed, true, 'held in the engine itself, it ends with it');
});

test('Hyper-V memory defaults to 1024 MB and follows --memory', () => {
  const host = { owner: 'silo', scratchPath: 'C:\\s', layers: [], utilityVmPath: 'C:\\b\\UtilityVM', hostCpuCount: 2 };
  assert.equal(hypervContainerDocument(spec({ isolation: 'hyperv' }), host).MemoryMaximumInMB, 1024);
  assert.equal(hypervContainerDocument(spec({ isolation: 'hyperv', resources: { memoryBytes: 512 * 1024 * 1024 } }), host).MemoryMaximumInMB, 512);
  const whole = hypervContainerDocument(spec({ isolation: 'hyperv', resources: { nanoCpus: 2e9 } }), host);
  assert.equal(whole.ProcessorCount, 2);
  assert.equal(whole.ProcessorMaximum, undefined);
});

test('the utility VM image is the topmost layer that has one', () => {
  const has = new Set(['C:\\l\\base']);
  assert.equal(utilityVmImagePath(['C:\\l\\app', 'C:\\l\\base'], (p) => has.has(p)), 'C:\\l\\base\\UtilityVM');
  assert.throws(() => utilityVmImagePath(['C:\\l\\app'], () => false), /UtilityVM/);
});

test('process parameters follow Docker: stderr pipe unless a console is emulated', () => {
  assert.deepEqual(processParameters(spec().process), {
    CommandLine: 'cmd /S /C "echo hello"',
    WorkingDirectory: 'C:\\',
    User: 'ContainerUser',
    Environment: { PATH: 'C:\\Windows\\system32;C:\\Windows' },
    EmulateConsole: false,
    CreateStdInPipe: false,
    CreateStdOutPipe: true,
    CreateStdErrPipe: true,
  });
  const tty = processParameters({ ...spec().process, terminal: true, stdin: true, cwd: '/app', user: '' }, { consoleSize: { height: 40, width: 120 } });
  assert.equal(tty.EmulateConsole, true);
  assert.equal(tty.CreateStdErrPipe, false);
  assert.equal(tty.CreateStdInPipe, true);
  assert.deepEqual(tty.ConsoleSize, [40, 120]);
  assert.equal(tty.WorkingDirectory, 'C:\\app');
  assert.equal('User' in tty, false);
  assert.equal(processParameters(spec().process, { argsEscaped: true }).CommandLine, 'cmd /S /C echo hello');
  assert.throws(() => processParameters({ ...spec().process, args: [] }), /No command/);
});

test('environment names are case-insensitive, the last one wins', () => {
  assert.deepEqual(environmentMap(['PATH=a', 'Path=b', 'X=1=2', 'EMPTY=']), { Path: 'b', X: '1=2', EMPTY: '' });
  assert.throws(() => environmentMap(['NOVALUE']), /NAME=value/);
});

test('arguments are quoted the way CommandLineToArgvW reads them back', () => {
  assert.equal(escapeWindowsArg(''), '""');
  assert.equal(escapeWindowsArg('plain'), 'plain');
  assert.equal(escapeWindowsArg('C:\\Program Files\\x'), '"C:\\Program Files\\x"');
  assert.equal(escapeWindowsArg('C:\\dir\\'), 'C:\\dir\\');
  assert.equal(escapeWindowsArg('a dir\\'), '"a dir\\\\"');
  assert.equal(escapeWindowsArg('say "hi"'), '"say \\"hi\\""');
  assert.equal(escapeWindowsArg('a\\"b'), 'a\\\\\\"b');
  assert.equal(windowsCommandLine(['powershell', '-Command', 'Write-Host "a b"']), 'powershell -Command "Write-Host \\"a b\\""');
});

test('container paths become drive-letter paths', () => {
  assert.equal(windowsContainerPath('/data/x'), 'C:\\data\\x');
  assert.equal(windowsContainerPath('d:/logs/'), 'D:\\logs');
  assert.equal(windowsContainerPath('C:\\'), 'C:\\');
  assert.equal(windowsContainerPath('c:'), 'C:\\');
  assert.throws(() => windowsContainerPath('relative\\x'), /absolute/);
  assert.throws(() => windowsContainerPath('C:\\a|b'), /character/);
});

test('POSIX signals map to console events; SIGKILL terminates', () => {
  assert.deepEqual(windowsSignal('SIGTERM'), { kind: 'signal', options: { Signal: 'CtrlShutdown' } });
  assert.deepEqual(windowsSignal(15), { kind: 'signal', options: { Signal: 'CtrlShutdown' } });
  assert.deepEqual(windowsSignal('TERM'), { kind: 'signal', options: { Signal: 'CtrlShutdown' } });
  assert.deepEqual(windowsSignal('SIGINT'), { kind: 'signal', options: { Signal: 'CtrlC' } });
  assert.deepEqual(windowsSignal('2'), { kind: 'signal', options: { Signal: 'CtrlC' } });
  assert.deepEqual(windowsSignal('ctrlbreak'), { kind: 'signal', options: { Signal: 'CtrlBreak' } });
  assert.deepEqual(windowsSignal('SIGKILL'), { kind: 'terminate' });
  assert.deepEqual(windowsSignal(9), { kind: 'terminate' });
  assert.throws(() => windowsSignal('SIGUSR1'), /cannot receive signal SIGUSR1/);
});

test('process modify requests: resize and close stdin', () => {
  assert.deepEqual(resizeConsoleRequest(40, 120), { Operation: 'ConsoleSize', ConsoleSize: { Height: 40, Width: 120 } });
  assert.deepEqual(resizeConsoleRequest(0, 1e6), { Operation: 'ConsoleSize', ConsoleSize: { Height: 1, Width: 65535 } });
  assert.deepEqual(closeStdinRequest(), { Operation: 'CloseHandle', CloseHandle: { Handle: 'StdIn' } });
});

test('property and system queries', () => {
  assert.deepEqual(statisticsQuery(), { PropertyTypes: ['Statistics'] });
  assert.deepEqual(ownedContainersQuery('silo'), { Types: ['Container'], Owners: ['silo'] });
  assert.deepEqual(servicePropertiesQuery(), { PropertyTypes: ['Basic'] });
});

test('result documents: properties, process status, result error', () => {
  const p = parseProperties('{"Id":"c1","SystemType":"Container","State":"Running","Statistics":{"Memory":{"MemoryUsageCommitBytes":123}}}');
  assert.equal(p?.State, 'Running');
  assert.equal(p?.Statistics?.Memory?.MemoryUsageCommitBytes, 123);
  assert.equal(parseProperties('not json'), undefined);
  assert.equal(exitCodeOf(parseProcessStatus('{"ProcessId":4,"Exited":true,"ExitCode":3221225786,"LastWaitResult":0}')), 3221225786);
  assert.equal(exitCodeOf(parseProcessStatus('{"ProcessId":4,"Exited":false}')), undefined);
  assert.equal(exitCodeOf(parseProcessStatus('{"Exited":true,"ExitCode":1,"LastWaitResult":-2147024809}')), undefined);
  const err = parseResultError('{"Error":-2143878911,"ErrorMessage":"The container operating system does not match the host operating system.","ErrorEvents":[{"Message":"detail one"},{"Message":"detail one"}]}');
  assert.equal(err?.Error, -2143878911);
  assert.deepEqual(resultErrorMessages(err), ['The container operating system does not match the host operating system.', 'detail one']);
  assert.equal(parseResultError('{"Id":"x"}'), undefined);
});

test('HCN documents: NAT network, endpoint with port mappings, namespace', () => {
  assert.deepEqual(natNetworkDocument('silo-nat', '172.30.5.9/16'), {
    Name: 'silo-nat',
    Type: 'NAT',
    SchemaVersion: { Major: 2, Minor: 0 },
    Ipams: [{ Type: 'Static', Subnets: [{ IpAddressPrefix: '172.30.0.0/16', Routes: [{ NextHop: '172.30.0.1', DestinationPrefix: '0.0.0.0/0' }] }] }],
  });
  assert.throws(() => natNetworkDocument('x', '300.1.1.1/16'), /IPv4 prefix/);
  assert.deepEqual(
    endpointDocument('net-guid', [
      { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' },
    ]),
    {
      HostComputeNetwork: 'net-guid',
      SchemaVersion: { Major: 2, Minor: 0 },
      Policies: [
        { Type: 'PortMapping', Settings: { Protocol: 6, InternalPort: 80, ExternalPort: 8080 } },
        { Type: 'PortMapping', Settings: { Protocol: 17, InternalPort: 53, ExternalPort: 5353, VIP: '127.0.0.1' } },
      ],
    },
  );
  assert.deepEqual(endpointDocument('n', []), { HostComputeNetwork: 'n', SchemaVersion: { Major: 2, Minor: 0 } });
  assert.throws(() => endpointDocument('n', [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]), /between 1 and 65535/);
  assert.deepEqual(namespaceEndpointRequest('ep'), { ResourceType: 'Endpoint', RequestType: 'Add', Settings: { EndpointId: 'ep' } });
  assert.deepEqual(hcnQuery({ Name: 'silo-nat' }), { SchemaVersion: { Major: 2, Minor: 0 }, Flags: 0, Filter: '{"Name":"silo-nat"}' });
});

test('windows-layer mounts carry the parent chain, immediate parent first', () => {
  const m = windowsLayerMount({ scratchPath: 'C:\\s', parentLayerPaths: ['C:\\l\\2', 'C:\\l\\1'] });
  assert.deepEqual(m, { type: 'windows-layer', source: 'C:\\s', options: ['parentLayerPaths=["C:\\\\l\\\\2","C:\\\\l\\\\1"]'] });
  assert.deepEqual(parseWindowsLayerMount([m]), { scratchPath: 'C:\\s', parentLayerPaths: ['C:\\l\\2', 'C:\\l\\1'] });
  assert.throws(() => parseWindowsLayerMount([{ type: 'overlay', source: 'overlay', options: [] }]), /windows-layer/);
  assert.throws(() => parseWindowsLayerMount([{ type: 'windows-layer', source: 'C:\\s', options: ['parentLayerPaths=[1]'] }]), /malformed/);
});
