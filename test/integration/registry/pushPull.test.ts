// Push to and pull from a real registry (Debian's docker-registry) on 127.0.0.1: open, htpasswd and
// token auth; the pulled image equals the pushed one and its layers are unpacked.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { fixtureBusyboxRootfs } from '../../fixtures/fixtureImageService';
import { fixtureDistribution, type FixtureDistribution } from '../../fixtures/fixtureDistribution';
import { hasRegistry, startRegistry, type FixtureRegistry } from '../../fixtures/fixtureRegistry';

const skip = !hasRegistry || process.getuid?.() !== 0 ? 'needs root and docker-registry' : false;
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function engineWithBusybox(): Promise<{ e: FixtureDistribution; id: string }> {
  const e = fixtureDistribution();
  cleanups.push(e.cleanup);
  const { id } = await e.service.importRootfs(Readable.from(await fixtureBusyboxRootfs()), { ref: 'busybox:latest' });
  return { e, id };
}

async function registry(opts: Parameters<typeof startRegistry>[0] = {}): Promise<FixtureRegistry> {
  const r = await startRegistry(opts);
  cleanups.push(r.dispose);
  return r;
}

test('push to an open registry, pull into an empty root: same image, layers unpacked', { skip }, async () => {
  const reg = await registry();
  const { e, id } = await engineWithBusybox();
  const name = `${reg.domain}/silo/busybox:1`;
  await e.service.tag('busybox:latest', name);
  const phases: string[] = [];
  const pushed = await e.distribution.push(name, { onProgress: (p) => phases.push(p.phase) });
  assert.match(pushed.digest, /^sha256:[a-f0-9]{64}$/);
  assert.ok(phases.includes('pushed'));
  // A second push finds every blob present.
  const again: string[] = [];
  await e.distribution.push(name, { onProgress: (p) => again.push(p.phase) });
  assert.ok(again.includes('exists') && !again.includes('pushed'));

  const f = fixtureDistribution();
  cleanups.push(f.cleanup);
  const progress: string[] = [];
  const r = await f.distribution.pull(name, { onProgress: (p) => progress.push(p.phase) });
  assert.equal(r.id, id);
  assert.equal(r.digest, pushed.digest);
  assert.equal(r.status, 'downloaded');
  assert.ok(progress.includes('complete'));
  const rec = await f.images.resolve(name);
  assert.equal(rec.id, id);
  assert.ok(await f.snapshotter.hasLayer(rec.layers[0].chainID));
  assert.ok((rec.layers[0].size ?? 0) > 100_000, 'unpacked size recorded');
  const rows = await f.service.list();
  assert.equal(rows[0].digest, pushed.digest);
  // Pulling again: up to date, nothing downloaded.
  const progress2: string[] = [];
  const r2 = await f.distribution.pull(name, { onProgress: (p) => progress2.push(p.phase) });
  assert.equal(r2.status, 'up-to-date');
  assert.ok(!progress2.includes('downloading'));
  // By digest.
  const byDigest = await f.distribution.pull(`${reg.domain}/silo/busybox@${pushed.digest}`);
  assert.equal(byDigest.id, id);
  // Cross-repository mount on push of the same image under another name.
  await e.service.tag('busybox:latest', `${reg.domain}/silo/other:1`);
  const mount: string[] = [];
  await e.distribution.push(`${reg.domain}/silo/other:1`, { onProgress: (p) => mount.push(p.phase) });
  assert.ok(mount.includes('mounted'), `phases: ${mount.join(',')}`);
});

test('chunked upload: a blob above the chunk size goes up in PATCH chunks and pulls back intact', { skip }, async () => {
  const reg = await registry();
  const { e, id } = await engineWithBusybox();
  const name = `${reg.domain}/silo/chunked:1`;
  await e.service.tag('busybox:latest', name);
  const current: number[] = [];
  await e.distribution.push(name, { chunkSize: 256 * 1024, onProgress: (p) => p.phase === 'pushing' && current.push(p.current ?? 0) });
  assert.ok(current.length > 2, 'several chunks reported');
  const f = fixtureDistribution();
  cleanups.push(f.cleanup);
  assert.equal((await f.distribution.pull(name)).id, id);
});

test('htpasswd registry: anonymous is refused clearly, login stores credentials owner-only, push and pull work', { skip }, async () => {
  const reg = await registry({ auth: 'htpasswd', users: { alice: 'wonderland' } });
  const { e, id } = await engineWithBusybox();
  const name = `${reg.domain}/private/busybox:1`;
  await e.service.tag('busybox:latest', name);
  await assert.rejects(e.distribution.push(name), (err: Error & { kind?: string }) => {
    assert.equal(err.kind, 'PermissionDenied');
    assert.match(err.message, /unauthorized/);
    return true;
  });
  await assert.rejects(e.distribution.login(reg.domain, 'alice', 'wrong'), (err: Error) => {
    assert.doesNotMatch(err.message + String((err as { hint?: string }).hint), /wrong/);
    return true;
  });
  await e.distribution.login(reg.domain, 'alice', 'wonderland');
  const st = await fs.stat(path.join(e.root, 'auth.json'));
  assert.equal(st.mode & 0o077, 0);
  await e.distribution.push(name);
  const f = fixtureDistribution();
  cleanups.push(f.cleanup);
  await assert.rejects(f.distribution.pull(name), /unauthorized/);
  await f.distribution.login(reg.domain, 'alice', 'wonderland');
  assert.equal((await f.distribution.pull(name)).id, id);
  assert.deepEqual(await f.distribution.logout(reg.domain), { domain: reg.domain, removed: true });
  assert.ok(!(await fs.readFile(path.join(f.root, 'auth.json'), 'utf8')).includes('alice'));
});

test('token registry: bearer tokens per scope; wrong password refused; access_token-only replies work', { skip }, async () => {
  for (const accessTokenOnly of [false, true]) {
    const reg = await registry({ auth: 'token', users: { bob: 's3cret' }, accessTokenOnly });
    const { e, id } = await engineWithBusybox();
    const name = `${reg.domain}/team/busybox:1`;
    await e.service.tag('busybox:latest', name);
    await assert.rejects(e.distribution.login(reg.domain, 'bob', 'nope'), /refused/);
    await e.distribution.login(reg.domain, 'bob', 's3cret');
    await e.distribution.push(name);
    assert.ok(reg.tokenRequests.some((t) => t.account === 'bob' && t.scopes.includes('repository:team/busybox:pull,push')));
    const f = fixtureDistribution();
    cleanups.push(f.cleanup);
    await assert.rejects(f.distribution.pull(name), (err: Error & { kind?: string }) => err.kind === 'PermissionDenied');
    await f.distribution.login(reg.domain, 'bob', 's3cret');
    assert.equal((await f.distribution.pull(name)).id, id);
  }
});

test('credentials from docker config.json: auths entry and a docker-credential helper', { skip }, async () => {
  const reg = await registry({ auth: 'htpasswd', users: { carol: 'pw1' } });
  const { e } = await engineWithBusybox();
  const name = `${reg.domain}/c/busybox:1`;
  await e.service.tag('busybox:latest', name);
  await e.distribution.login(reg.domain, 'carol', 'pw1');
  await e.distribution.push(name);

  const cfgDir = await fs.mkdtemp('/tmp/silo-dockercfg-');
  cleanups.push(() => fs.rm(cfgDir, { recursive: true, force: true }));
  await fs.writeFile(path.join(cfgDir, 'config.json'), JSON.stringify({ auths: { [`http://${reg.domain}`]: { auth: Buffer.from('carol:pw1').toString('base64') } } }));
  const f = fixtureDistribution({}, path.join(cfgDir, 'config.json'));
  cleanups.push(f.cleanup);
  await f.distribution.pull(name);

  // A credential helper on PATH.
  const bin = path.join(cfgDir, 'bin');
  await fs.mkdir(bin);
  await fs.writeFile(path.join(bin, 'docker-credential-silotest'), `#!/bin/sh\nread server\necho "$server" > ${cfgDir}/asked\necho '{"ServerURL":"'$server'","Username":"carol","Secret":"pw1"}'\n`, { mode: 0o755 });
  await fs.writeFile(path.join(cfgDir, 'helper.json'), JSON.stringify({ credHelpers: { [reg.domain]: 'silotest' } }));
  const g = fixtureDistribution({}, path.join(cfgDir, 'helper.json'));
  cleanups.push(g.cleanup);
  const oldPath = process.env.PATH;
  process.env.PATH = `${bin}:${oldPath}`;
  try {
    await g.distribution.pull(name);
  } finally {
    process.env.PATH = oldPath;
  }
  assert.equal((await fs.readFile(path.join(cfgDir, 'asked'), 'utf8')).trim(), reg.domain);
  assert.ok(existsSync(g.root));
});
