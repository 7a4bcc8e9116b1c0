// The Docker API's pure parts: stream framing, filters, and the create request's translation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SiloError } from '../../../engine/src/errors';
import type { Engine } from '../../../engine/src/service/engine';
import { createOptions } from '../../../engine/src/dockerapi/containerCreate';
import { parseFilters } from '../../../engine/src/dockerapi/filters';
import { matchAll, labelMatches } from '../../../engine/src/service/filters';
import { errorResponse } from '../../../engine/src/dockerapi/http';
import { splitVersion } from '../../../engine/src/dockerapi/router';
import { frame, readFrames, StdStream } from '../../../engine/src/dockerapi/stdcopy';

// A Linux engine, as far as create's translation asks (its platform's OS picks the Binds rule).
const noEngine = { platform: { os: 'linux' } } as Engine;

test('multiplexed frames carry the stream and a big-endian length, as moby stdcopy writes them', () => {
  const f = frame(StdStream.Stderr, Buffer.from('oops\n'));
  assert.deepEqual([...f.subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 5]);
  const both = Buffer.concat([frame(StdStream.Stdout, Buffer.from('a')), f]);
  assert.deepEqual([...readFrames(both)].map((x) => [x.stream, x.payload.toString()]), [[1, 'a'], [2, 'oops\n']]);
});

test('filters: JSON of name -> values, unknown names refused, labels AND and other names OR', () => {
  const f = parseFilters('{"status":["running","exited"],"label":["a=1","b"]}', ['status', 'label']);
  const match = (status: string, labels: Record<string, string>) =>
    matchAll(f, (name, v) => (name === 'status' ? status === v : labelMatches(labels, v)));
  assert.equal(match('exited', { a: '1', b: 'x' }), true);
  assert.equal(match('exited', { a: '1' }), false);
  assert.equal(match('created', { a: '1', b: '' }), false);
  assert.throws(() => parseFilters('{"nope":["x"]}', ['status']), /invalid filter 'nope'/);
  assert.throws(() => parseFilters('not json', ['status']), /not JSON/);
  assert.deepEqual([...parseFilters('{"label":{"a=1":true}}', ['label'])], [['label', ['a=1']]]);
});

test('versioned and unversioned paths', () => {
  assert.deepEqual(splitVersion('/v1.41/containers/json'), { version: '1.41', path: '/containers/json' });
  assert.deepEqual(splitVersion('/_ping'), { path: '/_ping' });
});

test("error kinds map to Docker's status codes", () => {
  assert.deepEqual(errorResponse(new SiloError('NotFound', 'No such container: x')), { status: 404, message: 'No such container: x' });
  assert.equal(errorResponse(new SiloError('AlreadyExists', 'Conflict.')).status, 409);
  assert.equal(errorResponse(new SiloError('FailedPrecondition', 'running')).status, 409);
  assert.equal(errorResponse(new SiloError('NotImplemented', 'no')).status, 501);
  assert.equal(errorResponse(new Error('boom')).status, 500);
});

test('create: what the docker CLI sends maps onto the service options', async () => {
  // The shape docker 28 sends for `docker run -d -p 127.0.0.1:8080:80 -e A=1 --label l=v -m 64m --cpus 1.5 --rm busybox sh`.
  const body = {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true, ExposedPorts: { '80/tcp': {} },
    Tty: false, OpenStdin: false, StdinOnce: false, Env: ['A=1'], Cmd: ['sh'], Image: 'busybox', Volumes: {}, WorkingDir: '',
    Entrypoint: null, OnBuild: null, Labels: { l: 'v' },
    HostConfig: {
      Binds: null, ContainerIDFile: '', LogConfig: { Type: '', Config: {} }, NetworkMode: 'default',
      PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] }, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: true, VolumeDriver: '', VolumesFrom: null, ConsoleSize: [0, 0], CapAdd: null, CapDrop: null, CgroupnsMode: '',
      Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, GroupAdd: null, IpcMode: '', Cgroup: '', Links: null, OomScoreAdj: 0,
      PidMode: '', Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: null, UTSMode: '', UsernsMode: '',
      ShmSize: 0, Isolation: '', CpuShares: 0, Memory: 67108864, NanoCpus: 1500000000, CgroupParent: '', BlkioWeight: 0,
      BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [],
      CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '', Devices: [],
      DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: null, OomKillDisable: null,
      PidsLimit: null, Ulimits: [], CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0, MaskedPaths: null, ReadonlyPaths: null,
    },
    NetworkingConfig: { EndpointsConfig: {} },
  };
  const o = await createOptions(noEngine, body, 'web');
  assert.equal(o.image, 'busybox');
  assert.equal(o.name, 'web');
  assert.deepEqual(o.cmd, ['sh']);
  assert.equal(o.entrypoint, undefined);
  assert.deepEqual(o.env, ['A=1']);
  assert.deepEqual(o.labels, { l: 'v' });
  assert.deepEqual(o.ports, [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
  assert.equal(o.memoryBytes, 64 * 1024 * 1024);
  assert.equal(o.nanoCpus, 1.5e9);
  assert.equal(o.autoRemove, true);
});

test('create: an empty host port gets a free one; an entrypoint of [""] clears the image\'s', async () => {
  const o = await createOptions(noEngine, { Image: 'busybox', Entrypoint: [''], HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '' }] } } }, undefined);
  assert.deepEqual(o.entrypoint, []);
  assert.equal(o.ports?.length, 1);
  assert.ok(o.ports![0].hostPort > 0);
  assert.equal(o.ports![0].hostIp, '0.0.0.0');
});

test('create: unsupported settings and unknown fields are refused with the field named', async () => {
  const reject = (body: Record<string, unknown>, re: RegExp) => assert.rejects(createOptions(noEngine, body, undefined), re);
  await reject({ Image: 'busybox', HostConfig: { RestartPolicy: { Name: 'always' } } }, /restart policy "always" is not supported/);
  await reject({ Image: 'busybox', HostConfig: { Privileged: true } }, /HostConfig\.Privileged is not supported/);
  await reject({ Image: 'busybox', HostConfig: { NetworkMode: 'host' } }, /network mode "host" is not supported/);
  await reject({ Image: 'busybox', Bogus: 1 }, /unknown field "Bogus"/);
  await reject({ Image: 'busybox', HostConfig: { Binds: ['data:/data'] } }, /named volumes are not supported/);
  await reject({ Image: 'busybox', HostConfig: { Memory: 1024 } }, /Minimum memory limit allowed is 6MB/);
  await reject({ Image: 'busybox', HostConfig: { PortBindings: { '53/udp': [{ HostPort: '53' }] } } }, /udp ports is not supported/);
  await reject({ HostConfig: {} }, /Image is required/);
});
