// The engine can die at any instant: containers keep running and logging, `logs -f` resumes without
// losing or repeating a line, exit codes are recorded, and an import cut short leaves no trace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { SiloFixture } from '../../fixtures/fixtureSilo';

const silo = new SiloFixture();
before(() => silo.importBusybox());
after(() => silo.dispose());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function killEngine(): number {
  const pid = silo.enginePid();
  assert.ok(pid, 'an engine is running');
  process.kill(pid!, 'SIGKILL');
  return pid!;
}

test('kill -9 of the engine while a container logs: every line once, exit code recorded', async () => {
  silo.ok(['run', '-d', '--name', 'talker', 'busybox', 'sh', '-c', 'i=1; while [ $i -le 120 ]; do echo "line $i"; i=$((i+1)); sleep 0.02; done; exit 3']);
  const follower = silo.spawn(['logs', '-f', 'talker']);
  let out = '';
  let err = '';
  follower.stdout.on('data', (d) => (out += d));
  follower.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number>((resolve) => follower.on('exit', (code) => resolve(code ?? -1)));
  await sleep(600);
  const first = killEngine();
  assert.equal(await exited, 0, `logs -f reconnects to a new engine and ends when the container exits (${err})`);
  const want = Array.from({ length: 120 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
  assert.equal(out, want, 'the follower saw every line exactly once, in order');
  assert.equal(silo.ok(['logs', 'talker']), want);
  assert.equal(silo.ok(['wait', 'talker']), '3\n');
  assert.notEqual(silo.enginePid(), first, 'a new engine serves the data root');
});

test('kill -9 of the engine while a container runs: it keeps running and is picked up again', async () => {
  silo.ok(['run', '-d', '--name', 'survivor', 'busybox', 'sleep', '300']);
  killEngine();
  await sleep(200);
  const info = JSON.parse(silo.ok(['inspect', 'survivor']))[0];
  assert.equal(info.State.Running, true);
  assert.equal(silo.ok(['exec', 'survivor', 'echo', 'still here']), 'still here\n');
  silo.ok(['kill', 'survivor']);
  assert.equal(silo.ok(['wait', 'survivor']), '137\n');
});

test('kill -9 of the engine during an import: no half image, no unverified blob, the store works', async () => {
  const dir = execFileSync('mktemp', ['-d']).toString().trim();
  // ~150 MB of incompressible data makes the import take long enough to be cut short.
  execFileSync('sh', ['-c', `mkdir -p ${dir}/rootfs && head -c 150000000 /dev/urandom > ${dir}/rootfs/blob && tar -C ${dir}/rootfs -cf ${dir}/big.tar .`]);
  const before = silo.ok(['images', '-q']);
  const importer = silo.spawn(['import', `${dir}/big.tar`, 'big:cut']);
  const done = new Promise((resolve) => importer.on('exit', resolve));
  await sleep(1500);
  killEngine();
  await done;
  assert.equal(silo.ok(['images', '-q']), before, 'no image appeared');
  const blobs = readdirSync(path.join(silo.root, 'blobs', 'sha256'));
  for (const b of blobs) {
    const sum = execFileSync('sha256sum', [path.join(silo.root, 'blobs', 'sha256', b)]).toString().split(' ')[0];
    assert.equal(sum, b, `blob ${b} is whole and verified`);
  }
  // The store keeps working: the same import now succeeds and runs.
  silo.ok(['import', `${dir}/big.tar`, 'big:ok'], { timeoutMs: 120_000 });
  assert.match(silo.ok(['images']), /big\s+ok/);
  execFileSync('rm', ['-rf', dir]);
  silo.ok(['rmi', 'big:ok']);
  silo.ok(['system', 'prune', '-f']);
});
