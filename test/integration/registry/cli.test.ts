// `silo push`, `silo pull`, `silo login/logout` through the real CLI against a real registry; the
// pulled image runs; docker (a private dockerd) pulls what silo pushed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { SiloFixture, hasTool } from '../../fixtures/fixtureSilo';
import { hasRegistry, startRegistry } from '../../fixtures/fixtureRegistry';
import { DOCKER_CLIENT, startDockerd } from '../../fixtures/fixtureDockerd';

const skip = !hasRegistry || process.getuid?.() !== 0 || !hasTool('crun') ? 'needs root, crun and docker-registry' : false;
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('silo push, then silo pull into an empty root and run it; docker pulls it too', { skip }, async () => {
  const reg = await startRegistry({ auth: 'htpasswd', users: { dave: 'pw' } });
  cleanups.push(reg.dispose);
  const a = new SiloFixture();
  cleanups.push(() => a.dispose());
  a.importBusybox();
  const name = `${reg.domain}/demo/busybox:v1`;
  a.ok(['tag', 'busybox:latest', name]);
  const denied = a.run(['push', name]);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /unauthorized/);
  const login = a.run(['login', '-u', 'dave', '--password-stdin', reg.domain], { input: 'pw\n' });
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stdout, /Login Succeeded/);
  const pushed = a.ok(['push', name]);
  assert.match(pushed, /The push refers to repository \[127\.0\.0\.1:\d+\/demo\/busybox\]/);
  assert.match(pushed, /: Pushed/);
  assert.match(pushed, /v1: digest: sha256:[a-f0-9]{64} size: \d+/);

  const b = new SiloFixture();
  cleanups.push(() => b.dispose());
  b.ok(['login', '-u', 'dave', '-p', 'pw', reg.domain]);
  const out = b.ok(['pull', name]);
  assert.match(out, /v1: Pulling from demo\/busybox/);
  assert.match(out, /: Pull complete/);
  assert.match(out, /Status: Downloaded newer image for/);
  assert.match(b.ok(['images']), /demo\/busybox\s+v1/);
  assert.equal(b.ok(['run', '--rm', name, 'echo', 'hello from the registry']).trim(), 'hello from the registry');
  assert.match(b.ok(['pull', name]), /Image is up to date/);
  assert.match(b.ok(['logout', reg.domain]), /Removing login credentials/);
  assert.match(b.ok(['logout', reg.domain]), /Not logged in/);

  // Interop: docker pulls what silo pushed.
  let dockerd;
  try {
    dockerd = await startDockerd();
  } catch (err) {
    test.skip?.(`no private dockerd: ${(err as Error).message}`);
    return;
  }
  cleanups.push(() => dockerd.stop());
  const dl = spawnSync(DOCKER_CLIENT, ['login', '-u', 'dave', '--password-stdin', reg.domain], { input: 'pw', env: { ...dockerd.env, DOCKER_CONFIG: dockerd.dir } });
  assert.equal(dl.status, 0, dl.stderr.toString());
  const dp = spawnSync(DOCKER_CLIENT, ['pull', name], { env: { ...dockerd.env, DOCKER_CONFIG: dockerd.dir }, timeout: 120_000 });
  assert.equal(dp.status, 0, dp.stderr.toString());
  const dr = spawnSync(DOCKER_CLIENT, ['run', '--rm', '--network', 'none', name, 'echo', 'docker ran it'], { env: { ...dockerd.env, DOCKER_CONFIG: dockerd.dir }, timeout: 120_000 });
  assert.equal(dr.stdout.toString().trim(), 'docker ran it', dr.stderr.toString());

  // rmi of a pulled image's only tag deletes it, its digest reference too, as docker does (no <none> left).
  const shape = (out: string) => out.split('\n').filter(Boolean).map((l) => l.replace(/sha256:[a-f0-9]{64}/, 'sha256:X').replace(/^Deleted: .*/, 'Deleted'));
  const drmi = spawnSync(DOCKER_CLIENT, ['rmi', name], { env: { ...dockerd.env, DOCKER_CONFIG: dockerd.dir } });
  assert.equal(drmi.status, 0, drmi.stderr.toString());
  const srmi = b.ok(['rmi', name]);
  assert.deepEqual(shape(srmi).filter((l) => l !== 'Deleted'), shape(drmi.stdout.toString()).filter((l) => l !== 'Deleted'));
  assert.ok(shape(srmi).includes('Deleted'), srmi);
  assert.equal(b.ok(['images', '-aq']).trim(), '');
});
