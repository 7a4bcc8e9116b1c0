// What the container monitor records: OOM kills, rotated logs followed without a lost line, and the
// events the engine pushes to protocol clients.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as P from '../../../engine/src/protocol';
import { connectEngine } from '../../../engine/src/rpc/connect';
import { SiloFixture, repoRoot } from '../../fixtures/fixtureSilo';

let silo: SiloFixture;
before(() => {
  silo = new SiloFixture();
  silo.importBusybox();
});
after(() => silo.dispose());

test('a container killed for memory exits 137 with OOMKilled recorded', () => {
  const r = silo.run(['run', '--name', 'hog', '--memory', '16m', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/dev/null bs=64M count=1']);
  assert.equal(r.code, 137);
  const state = JSON.parse(silo.ok(['inspect', 'hog']))[0].State;
  assert.equal(state.OOMKilled, true);
  assert.equal(state.ExitCode, 137);
  silo.ok(['rm', 'hog']);
});

test('log rotation: a follower sees every line; the kept files hold the newest', () => {
  const script = 'i=1; while [ $i -le 60 ]; do echo "a line of the log, number $i"; i=$((i+1)); sleep 0.01; done';
  const out = silo.ok(['run', '--name', 'rotating', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', script]);
  assert.equal(out.trim().split('\n').length, 60, 'run followed the log across every rotation');
  const kept = silo.ok(['logs', 'rotating']).trim().split('\n');
  assert.ok(kept.length < 60 && kept.length > 5, `only the last two files are kept (${kept.length} lines)`);
  assert.equal(kept[kept.length - 1], 'a line of the log, number 60');
  silo.ok(['rm', 'rotating']);
});

test('events are pushed to a subscribed client: create, start, die, destroy', async () => {
  const conn = await connectEngine(silo.root, { engineScript: path.join(repoRoot, 'dist/silo.js') });
  const seen: P.EngineEvent[] = [];
  conn.onNotification(P.EventNotification.method, (p: { stream: string; event: P.EngineEvent }) => {
    seen.push(p.event);
  });
  const sub = conn.sendRequest(P.EventsSubscribeRequest.type, { stream: 'ev' });
  await new Promise((r) => setTimeout(r, 100));
  silo.ok(['run', '--rm', '--name', 'eventful', 'busybox', 'true']);
  await new Promise((r) => setTimeout(r, 300));
  const mine = seen.filter((e) => e.attributes.name === 'eventful').map((e) => e.action);
  assert.deepEqual(mine, ['create', 'start', 'die', 'destroy']);
  conn.dispose();
  await sub.catch(() => undefined);
});
