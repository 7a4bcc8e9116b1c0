// `docker push` through Silo's Docker API (POST /images/{name}/push) to a real loopback registry, open
// and with basic auth (htpasswd). With auth the credentials come in X-Registry-Auth (the docker CLI
// reads them from its own config.json), or from `docker login` through Silo (POST /auth).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { SiloFixture } from '../../fixtures/fixtureSilo';
import { hasRegistry, startRegistry } from '../../fixtures/fixtureRegistry';

const DOCKER = '/usr/local/bin/docker';
const skip = !hasRegistry || process.getuid?.() !== 0 ? 'needs root and docker-registry' : !existsSync(DOCKER) ? 'docker CLI missing' : false;
const PASSWORD = 'push-only-pw-7731';
const cleanups: Array<() => Promise<void> | void> = [];
let silo: SiloFixture;
let host: string;

before(() => {
  if (skip) return;
  silo = new SiloFixture();
  cleanups.push(() => silo.dispose());
  silo.importBusybox();
  host = /^export DOCKER_HOST=(unix:\/\/.+)$/.exec(silo.ok(['docker-env']).trim())![1];
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function docker(args: string[], dockerConfig: string, input = '') {
  const r = spawnSync(DOCKER, args, { env: { ...process.env, DOCKER_HOST: host, DOCKER_CONFIG: dockerConfig }, input, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** The registry's own answer for a manifest (what another client pulling would get). */
async function manifestDigest(domain: string, repo: string, tag: string, basic?: string): Promise<string | null> {
  const res = await fetch(`http://${domain}/v2/${repo}/manifests/${tag}`, {
    headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json', ...(basic ? { Authorization: `Basic ${basic}` } : {}) },
  });
  return res.ok ? res.headers.get('docker-content-digest') : null;
}

test('docker push through Silo to an open registry, then pull it back', { skip }, async () => {
  const reg = await startRegistry({});
  cleanups.push(reg.dispose);
  const cfg = mkdtempSync('/tmp/silo-dockercfg-');
  const name = `${reg.domain}/open/busybox:1`;
  assert.equal(docker(['tag', 'busybox', name], cfg).code, 0);
  const r = docker(['push', name], cfg);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`The push refers to repository \\[${reg.domain}/open/busybox\\]`));
  assert.match(r.stdout, /Pushed/);
  const m = /^1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.equal(await manifestDigest(reg.domain, 'open/busybox', '1'), m[1], 'the registry serves what docker push reported');

  // Again: every layer is already there.
  const again = docker(['push', name], cfg);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Layer already exists/);

  // Pulled back through Silo after removing the name, the same digest.
  assert.equal(docker(['rmi', name], cfg).code, 0);
  const pulled = docker(['pull', name], cfg);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, new RegExp(`Digest: ${m[1]}`));
});

test('docker push with basic auth: refused without credentials, X-Registry-Auth from the CLI config, and docker login', { skip }, async () => {
  const reg = await startRegistry({ auth: 'htpasswd', users: { pat: PASSWORD } });
  cleanups.push(reg.dispose);
  const name = `${reg.domain}/priv/busybox:2`;
  const anonCfg = mkdtempSync('/tmp/silo-dockercfg-');
  assert.equal(docker(['tag', 'busybox', name], anonCfg).code, 0);

  const anon = docker(['push', name], anonCfg);
  assert.notEqual(anon.code, 0);
  assert.match(anon.stderr, /unauthorized|authentication required|no basic auth credentials/i);

  // Credentials only in the docker CLI's config.json: the CLI sends them as X-Registry-Auth.
  const cfg = mkdtempSync('/tmp/silo-dockercfg-');
  const basic = Buffer.from(`pat:${PASSWORD}`).toString('base64');
  writeFileSync(path.join(cfg, 'config.json'), JSON.stringify({ auths: { [reg.domain]: { auth: basic } } }));
  const r = docker(['push', name], cfg);
  assert.equal(r.code, 0, r.stderr);
  const digest = /^2: digest: (sha256:[0-9a-f]{64})/m.exec(r.stdout)?.[1];
  assert.ok(digest, r.stdout);
  assert.equal(await manifestDigest(reg.domain, 'priv/busybox', '2', basic), digest);
  assert.equal(await manifestDigest(reg.domain, 'priv/busybox', '2'), null, 'the registry does need auth');
  // Used for that request only: Silo's own credential store did not learn it.
  const authFile = path.join(silo.root, 'auth.json');
  assert.ok(!existsSync(authFile) || !readFileSync(authFile, 'utf8').includes(reg.domain));

  // docker login through Silo (POST /auth checks the password against the registry), then push a new tag.
  const loginCfg = mkdtempSync('/tmp/silo-dockercfg-');
  const wrong = docker(['login', '-u', 'pat', '--password-stdin', reg.domain], loginCfg, 'wrong-pw\n');
  assert.notEqual(wrong.code, 0);
  const login = docker(['login', '-u', 'pat', '--password-stdin', reg.domain], loginCfg, `${PASSWORD}\n`);
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stdout, /Login Succeeded/);
  const name3 = `${reg.domain}/priv/busybox:3`;
  assert.equal(docker(['tag', 'busybox', name3], loginCfg).code, 0);
  const p3 = docker(['push', name3], loginCfg);
  assert.equal(p3.code, 0, p3.stderr);
  assert.match(p3.stdout, /Layer already exists/);
  for (const out of [r.stdout, r.stderr, p3.stdout, p3.stderr]) assert.ok(!out.includes(PASSWORD));
});
