// `docker pull` through Silo's Docker API (POST /images/create) from a real loopback registry, open
// and with basic auth. With auth, the credentials come only in X-Registry-Auth (the docker CLI reads
// them from its own config.json); Silo uses them for that request, never stores or logs them.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { SiloFixture } from '../../fixtures/fixtureSilo';
import { hasRegistry, startRegistry, type FixtureRegistry } from '../../fixtures/fixtureRegistry';
import { fixtureFiles, pushFixtureImage } from '../../fixtures/fixtureRegistryImage';

const DOCKER = '/usr/local/bin/docker';
const skip = !hasRegistry || process.getuid?.() !== 0 ? 'needs root and docker-registry' : !existsSync(DOCKER) ? 'docker CLI missing' : false;
const PASSWORD = 'Xr3g-auth-only-pw-5150';
const cleanups: Array<() => Promise<void> | void> = [];
let silo: SiloFixture;
let sock: string;

before(() => {
  if (skip) return;
  silo = new SiloFixture();
  cleanups.push(() => silo.dispose());
  const line = silo.ok(['docker-env']).trim();
  sock = /^export DOCKER_HOST=unix:\/\/(.+)$/.exec(line)![1];
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function docker(args: string[], dockerConfig: string) {
  const r = spawnSync(DOCKER, args, { env: { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: dockerConfig }, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

async function registry(opts: Parameters<typeof startRegistry>[0], repo: string, credential?: { username: string; password: string }): Promise<FixtureRegistry> {
  const reg = await startRegistry(opts);
  cleanups.push(reg.dispose);
  await pushFixtureImage(reg.domain, repo, '1', [{ layers: [fixtureFiles('x', 2, 8192), fixtureFiles('y', 1, 8192)] }], credential);
  return reg;
}

/** POST /images/create over Silo's socket with a raw X-Registry-Auth; the streamed reply. */
function createImage(ref: string, xRegistryAuth: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method: 'POST', path: `/images/create?fromImage=${encodeURIComponent(ref)}`, headers: { 'X-Registry-Auth': xRegistryAuth } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('docker pull through Silo from an open registry', { skip }, async () => {
  const reg = await registry({}, 'open/app');
  const cfg = mkdtempSync('/tmp/silo-dockercfg-');
  const r = docker(['pull', `${reg.domain}/open/app:1`], cfg);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Pull complete/);
  assert.match(r.stdout, /Status: Downloaded newer image/);
  assert.match(silo.ok(['images']), /open\/app\s+1/);
});

test('docker pull through Silo with credentials only in X-Registry-Auth: used, never stored or logged', { skip }, async () => {
  const reg = await registry({ auth: 'htpasswd', users: { erin: PASSWORD } }, 'priv/app', { username: 'erin', password: PASSWORD });
  const name = `${reg.domain}/priv/app:1`;

  // Without credentials: refused clearly.
  const anon = docker(['pull', name], mkdtempSync('/tmp/silo-dockercfg-'));
  assert.notEqual(anon.code, 0);
  assert.match(anon.stderr, /unauthorized|authentication required/i);

  // The docker CLI's own config.json, never `docker login` through Silo: the CLI sends X-Registry-Auth.
  const cfg = mkdtempSync('/tmp/silo-dockercfg-');
  writeFileSync(path.join(cfg, 'config.json'), JSON.stringify({ auths: { [reg.domain]: { auth: Buffer.from(`erin:${PASSWORD}`).toString('base64') } } }));
  const r = docker(['pull', name], cfg);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Status: Downloaded newer image/);
  assert.match(silo.ok(['images']), /priv\/app\s+1/);

  // A wrong password in the header: an error in the stream that does not echo it.
  const wrong = 'not-the-right-pw-0815';
  const bad = await createImage(`${reg.domain}/priv/app:1`, Buffer.from(JSON.stringify({ username: 'erin', password: wrong, serveraddress: reg.domain })).toString('base64url'));
  assert.match(bad.body, /"error"/);
  assert.ok(!bad.body.includes(wrong));
  const garbled = await createImage(`${reg.domain}/priv/app:1`, '%%%not base64 json%%%');
  assert.equal(garbled.status, 400);
  assert.ok(!garbled.body.includes('not base64 json'));

  for (const file of ['engine.log', 'auth.json']) {
    const p = path.join(silo.root, file);
    const text = existsSync(p) ? readFileSync(p, 'utf8') : '';
    assert.ok(!text.includes(PASSWORD) && !text.includes(wrong), `${file} holds no password`);
    assert.ok(!text.includes(Buffer.from(`erin:${PASSWORD}`).toString('base64')), `${file} holds no encoded password`);
  }
  assert.ok(!r.stdout.includes(PASSWORD) && !r.stderr.includes(PASSWORD));
});
