// The same docker CLI commands against Silo and against a private real dockerd (the oracle): where the
// output is deterministic, it must be the same.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DOCKER_CLIENT, startDockerd, type PrivateDockerd } from '../../fixtures/fixtureDockerd';
import { SiloFixture } from '../../fixtures/fixtureSilo';

let silo: SiloFixture | undefined;
let dockerd: PrivateDockerd | undefined;
let siloEnv: NodeJS.ProcessEnv;
let skip: string | false = existsSync(DOCKER_CLIENT) ? false : 'no docker CLI';

before(async () => {
  if (skip) return;
  try {
    dockerd = await startDockerd();
  } catch (err) {
    skip = `no private dockerd: ${(err as Error).message}`;
    return;
  }
  silo = new SiloFixture();
  silo.importBusybox();
  siloEnv = { ...process.env, DOCKER_HOST: /^export DOCKER_HOST=(.+)$/.exec(silo.ok(['docker-env']).trim())![1] };
  const tar = execFileSync(DOCKER_CLIENT, ['save', 'busybox'], { env: siloEnv, maxBuffer: 64 * 1024 * 1024 });
  execFileSync(DOCKER_CLIENT, ['load'], { env: dockerd.env, input: tar });
});
after(async () => {
  silo?.dispose();
  await dockerd?.stop();
});

/** Runs the same command on both; dockerd's containers need --network none (no bridge there). */
function both(args: string[], input = ''): Array<{ code: number | null; stdout: string; stderr: string }> {
  return [siloEnv, dockerd!.env].map((env, i) => {
    const a = i === 1 && (args[0] === 'run' || args[0] === 'create') ? [args[0], '--network', 'none', ...args.slice(1)] : args;
    const r = spawnSync(DOCKER_CLIENT, a, { env, input, timeout: 60_000 });
    return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  });
}

test('run --rm: same output, same streams, same exit code', { skip }, () => {
  const [s, d] = both(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.deepEqual(s, d);
  const [si, di] = both(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'wc -l'], 'a\nb\nc\n');
  assert.deepEqual(si, di);
});

test('run -d, logs, exec, wait, rm: same output', { skip }, () => {
  const script = 'echo one; echo two >&2; sleep 1; exit 9';
  const [s, d] = both(['run', '-d', '--name', 'o1', 'busybox', 'sh', '-c', script]);
  assert.equal(s.code, 0);
  assert.equal(d.code, 0);
  assert.deepEqual(both(['exec', 'o1', 'sh', '-c', 'echo in; exit 2']).map((r) => [r.code, r.stdout]), [[2, 'in\n'], [2, 'in\n']]);
  const [sw, dw] = both(['wait', 'o1']);
  assert.deepEqual(sw, dw);
  assert.equal(sw.stdout, '9\n');
  const [sl, dl] = both(['logs', 'o1']);
  assert.deepEqual(sl, dl);
  assert.deepEqual(both(['ps', '-a', '--format', '{{.Names}} {{.State}}']).map((r) => r.stdout), ['o1 exited\n', 'o1 exited\n']);
  assert.deepEqual(both(['rm', 'o1']).map((r) => r.stdout), ['o1\n', 'o1\n']);
});

test('missing containers fail the same way', { skip }, () => {
  const [s, d] = both(['logs', 'nope']);
  assert.deepEqual([s.code, s.stderr], [d.code, d.stderr]);
  const [sk, dk] = both(['kill', 'nope']);
  assert.deepEqual([sk.code, sk.stderr], [dk.code, dk.stderr]);
});
