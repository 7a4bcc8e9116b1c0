import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSummary } from '../../../engine/src/protocol';
import { formatPorts, groupContainers, humanDuration } from '../../../client/src/model/containerRows';
import { ContextValues } from '../../../client/src/model/viewIds';

function summary(over: Partial<ContainerSummary>): ContainerSummary {
  return {
    id: 'a'.repeat(64), name: 'web', image: 'busybox:latest', imageId: 'sha256:' + 'b'.repeat(64), command: 'sh',
    created: '2026-11-24T00:00:00Z', state: 'running', status: 'Up 2 minutes', ports: [], isolation: '', exitCode: 0, ...over,
  };
}

test('containers are grouped by state, running first, newest first within a group', () => {
  const groups = groupContainers(
    [
      summary({ id: '1', name: 'old-stopped', state: 'exited', status: 'Exited (0) 1 hour ago', created: '2026-11-20T00:00:00Z' }),
      summary({ id: '2', name: 'web', state: 'running' }),
      summary({ id: '3', name: 'new-stopped', state: 'exited', status: 'Exited (1) 1 minute ago', exitCode: 1, created: '2026-11-23T00:00:00Z' }),
      summary({ id: '4', name: 'fresh', state: 'created', status: 'Created' }),
    ],
    Date.parse('2026-11-24T00:05:00Z'),
  );
  assert.deepEqual(groups.map((g) => `${g.label}: ${g.containers.map((c) => c.label).join(',')}`), [
    'Running: web',
    'Created: fresh',
    'Stopped: new-stopped,old-stopped',
  ]);
});

test('a running container row offers stop (its contextValue) and shows image, ports and uptime', () => {
  const [g] = groupContainers([summary({ ports: [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }] })], Date.now());
  const row = g.containers[0];
  assert.equal(row.contextValue, ContextValues.containerRunning);
  assert.equal(row.description, 'busybox:latest · 127.0.0.1:8080->80/tcp · Up 2 minutes');
  assert.match(row.tooltip, /Ports: 127\.0\.0\.1:8080->80\/tcp/);
});

test('a stopped container that failed gets the stopped contextValue and the failed icon', () => {
  const [g] = groupContainers([summary({ state: 'exited', exitCode: 2, status: 'Exited (2) 3 seconds ago' })], Date.now());
  assert.equal(g.containers[0].contextValue, ContextValues.containerStopped);
  assert.equal(g.containers[0].icon, 'failed');
});

test('uptime and ports read like docker ps', () => {
  // go-units HumanDuration: units truncate, hours round.
  assert.equal(humanDuration(90_000), 'About a minute');
  assert.equal(humanDuration(150_000), '2 minutes');
  assert.equal(humanDuration(3 * 3600_000), '3 hours');
  assert.equal(humanDuration(2.6 * 3600_000), '3 hours');
  assert.equal(humanDuration(13.9 * 24 * 3600_000), '13 days');
  assert.equal(humanDuration(2.9 * 365 * 24 * 3600_000), '2 years');
  assert.equal(formatPorts([{ hostIp: '', hostPort: 1, containerPort: 2, protocol: 'udp' }]), '0.0.0.0:1->2/udp');
});
