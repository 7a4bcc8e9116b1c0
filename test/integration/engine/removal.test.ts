// The run path keeps its file work off the answer: `rm` renames a container out of sight and deletes
// its files afterwards, monitors start from a small launcher. None of it may leave anything behind,
// and an engine killed half-way through a removal is finished by the next one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import * as path from 'node:path';
import { runDir } from '../../../engine/src/runtime/monitor';
import { SiloFixture } from '../../fixtures/fixtureSilo';

const silo = new SiloFixture();
before(() => silo.importBusybox());
after(() => silo.dispose());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const entries = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
/** What the data root holds for containers: their dirs, their snapshots (the shared init layer aside). */
const leftovers = () => [
  ...entries(path.join(silo.root, 'containers')).filter((n) => n !== '.names.lock'),
  ...entries(path.join(silo.root, 'snapshots')).filter((n) => n !== '.init'),
];

/** Running: not gone, and not a zombie nobody reaps (a container host's pid 1 may not). */
const alive = (p: number) => existsSync(`/proc/${p}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${p}/status`, 'utf8'));

/** SIGKILL, then wait until it has taken effect: a process in the middle of a file operation dies after it. */
async function killEngine(): Promise<number> {
  const pid = silo.enginePid();
  assert.ok(pid, 'an engine is running');
  process.kill(pid!, 'SIGKILL');
  await until('the engine is gone', () => !alive(pid!));
  await sleep(200); // as crash.test.ts does: the next command then finds no engine, never a dying one
  return pid!;
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) await sleep(50);
  assert.ok(ok(), what);
}

test('run --rm and rm leave no directory, snapshot or runtime dir behind', async () => {
  const id = silo.ok(['create', 'busybox', 'sh', '-c', 'echo x > /f']).trim();
  assert.ok(existsSync(path.join(silo.root, 'snapshots', id)), 'the snapshot exists while the container does');
  silo.ok(['start', '-a', id]);
  silo.ok(['rm', id]);
  assert.equal(silo.ok(['ps', '-aq']), '', 'gone at once for every caller');
  for (let i = 0; i < 5; i++) silo.ok(['run', '--rm', 'busybox', 'true']);
  await until('the files of removed containers are deleted soon after', () => leftovers().length === 0);
  await until('their runtime dirs too', () => !existsSync(runDir(path.join(silo.root, 'containers', id))));
});

test('an engine killed between the rename and the snapshot removal: the next engine finishes it', async () => {
  const id = silo.ok(['create', 'busybox', 'true']).trim();
  await killEngine();
  // What `rm` leaves when killed right after its first step: the directory renamed out of sight under a
  // temp name of a process that is gone (pid 2^22 + 1 is above Linux's pid_max), the snapshot still there.
  const doomed = path.join(silo.root, 'containers', `.tmp-4194305-0123456789ab-${id}`);
  renameSync(path.join(silo.root, 'containers', id), doomed);
  assert.equal(silo.ok(['ps', '-aq']), '', 'the container is gone for the new engine');
  await until('the new engine deletes the snapshot and the directory', () => leftovers().length === 0);
});

test('the monitor launcher dies with the engine; the containers it started keep running', async () => {
  silo.ok(['run', '-d', '--name', 'keeper', 'busybox', 'sleep', '300']);
  const engine = silo.enginePid()!;
  const children = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(engine)]).toString();
  const launcher = /^\s*(\d+)\s+\S*silo-monitor --launcher/m.exec(children);
  assert.ok(launcher, `the engine runs a monitor launcher (${children})`);
  const init = JSON.parse(silo.ok(['inspect', 'keeper']))[0].State.Pid;
  assert.ok(init > 0);
  await killEngine();
  await until('the launcher ends with its engine', () => !alive(Number(launcher![1])));
  assert.ok(alive(init), 'the container outlives both');
  assert.equal(silo.ok(['exec', 'keeper', 'echo', 'here']), 'here\n');
  silo.ok(['rm', '-f', 'keeper']);
});
