import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CAPABILITIES, ociSpec, resolveUser } from '../../../engine/src/platform/linux/ociSpec';
import type { ContainerSpec } from '../../../engine/src/runtime/runtime';

const files: Record<string, string> = {
  '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App:/home/app:/bin/sh\n',
  '/etc/group': 'root:x:0:\napp:x:1000:\nstaff:x:50:app\n',
};
const read = (p: string) => files[p];

test('users resolve inside the image, never on the host', () => {
  assert.deepEqual(resolveUser('app', read), { uid: 1000, gid: 1000, additionalGids: [50], home: '/home/app' });
  assert.deepEqual(resolveUser('app:staff', read), { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' });
  assert.deepEqual(resolveUser('4242:7', read), { uid: 4242, gid: 7, additionalGids: [], home: undefined });
  assert.equal(resolveUser('', read).uid, 0);
  assert.throws(() => resolveUser('ghost', read), /unable to find user ghost/);
  assert.throws(() => resolveUser('app:nogroup', read), /unable to find group nogroup/);
});

const spec: ContainerSpec = {
  id: 'abc',
  os: 'linux',
  isolation: 'process',
  rootfs: [],
  process: { args: ['sh'], env: ['A=1'], cwd: '/srv', user: 'app', terminal: true, stdin: true },
  hostname: 'box',
  mounts: [{ source: '/host', target: '/data', readonly: true }],
  ports: [],
  resources: { memoryBytes: 64 * 1024 * 1024, nanoCpus: 1.5e9, pidsLimit: 100 },
  stopSignal: 'SIGTERM',
};

test('the OCI spec carries Docker defaults, the limits and the mounts', () => {
  const s = ociSpec(spec, { etcFiles: { hostname: '/c/hostname', hosts: '/c/hosts', resolvConf: '/c/resolv.conf' }, readImageFile: read, consoleSize: { rows: 24, cols: 80 } });
  assert.deepEqual(s.process.user, { uid: 1000, gid: 1000, additionalGids: [50] });
  assert.equal(s.process.noNewPrivileges, true);
  assert.deepEqual(s.process.capabilities.bounding, DEFAULT_CAPABILITIES);
  assert.deepEqual(s.process.capabilities.effective, [], 'a non-root user gets no effective capabilities');
  assert.ok(s.process.env.includes('HOME=/home/app') && s.process.env.includes('TERM=xterm') && s.process.env.includes('HOSTNAME=box'));
  assert.deepEqual(s.process.consoleSize, { height: 24, width: 80 });
  assert.deepEqual(s.linux.resources.memory, { limit: 64 * 1024 * 1024 });
  assert.deepEqual(s.linux.resources.cpu, { quota: 150000, period: 100000 });
  assert.deepEqual(s.linux.resources.pids, { limit: 100 });
  assert.ok(s.linux.maskedPaths.includes('/proc/kcore'));
  assert.ok(s.linux.readonlyPaths.includes('/proc/sys'));
  assert.deepEqual(s.linux.namespaces.map((n) => n.type).sort(), ['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);
  const data = s.mounts.find((m) => m.destination === '/data');
  assert.deepEqual(data?.options, ['rbind', 'rprivate', 'ro']);
  assert.ok(s.mounts.some((m) => m.destination === '/etc/resolv.conf' && m.source === '/c/resolv.conf'));
});

test('a container without a command is refused', () => {
  assert.throws(() => ociSpec({ ...spec, process: { ...spec.process, args: [] } }, { etcFiles: { hostname: '', hosts: '', resolvConf: '' }, readImageFile: read }), /no command specified/);
});
