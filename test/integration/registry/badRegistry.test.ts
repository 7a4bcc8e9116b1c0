// The pull client against misbehaving registries and Windows-style indexes (fixtureFakeRegistry):
// each case ends in a clear error or a successful retry, and nothing partial is visible in the store.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fixtureDistribution, type FixtureDistribution } from '../../fixtures/fixtureDistribution';
import { addFakeImage, putManifest, sha, startFakeRegistry, type FakeRegistry } from '../../fixtures/fixtureFakeRegistry';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});
async function fake(): Promise<FakeRegistry> {
  const r = await startFakeRegistry();
  cleanups.push(r.close);
  return r;
}
function engine(client = {}): FixtureDistribution {
  const e = fixtureDistribution({ idleTimeoutMs: 1000, backoffMs: 10, ...client });
  cleanups.push(e.cleanup);
  return e;
}
async function assertNothingVisible(e: FixtureDistribution): Promise<void> {
  assert.deepEqual(await e.service.list(), []);
  const blobs = await e.content.list();
  for (const b of blobs) {
    const data = await fs.readFile(e.content.path(b.digest));
    assert.equal(sha(data), b.digest, 'every visible blob is verified');
  }
}

const WINDOWS = [
  { v: '10.0.14393.6897' }, { v: '10.0.17763.5936' }, { v: '10.0.20348.2527', features: ['win32k'] }, { v: '10.0.20348.2529' },
  { v: '10.0.26100.1000' },
];

test('Windows index: the entry picked for hosts 17763, 20348, 22631, 26100 in both isolations', async () => {
  const reg = await fake();
  const entries = [];
  for (const w of WINDOWS) {
    const img = await addFakeImage(reg, { os: 'windows', osVersion: w.v });
    putManifest(reg, 'win/servercore', img.digest, img.manifest);
    entries.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.digest, size: img.manifest.length, platform: { os: 'windows', architecture: 'amd64', 'os.version': w.v, ...(w.features ? { 'os.features': w.features } : {}) } });
  }
  entries.push({ mediaType: 'application/vnd.example.unknown+json', digest: sha('x'), size: 1, platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.26100.9999' } } as never);
  const linux = await addFakeImage(reg, { os: 'linux' });
  putManifest(reg, 'win/servercore', linux.digest, linux.manifest);
  entries.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: linux.digest, size: linux.manifest.length, platform: { os: 'linux', architecture: 'amd64' } } as never);
  putManifest(reg, 'win/servercore', 'ltsc', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries })), 'application/vnd.oci.image.index.v1+json');

  const expected: Record<string, { process: string; hyperv: string }> = {
    17763: { process: '10.0.17763.5936', hyperv: '10.0.17763.5936' },
    20348: { process: '10.0.20348.2529', hyperv: '10.0.20348.2529' },
    22631: { process: '10.0.20348.2529', hyperv: '10.0.20348.2529' },
    26100: { process: '10.0.26100.1000', hyperv: '10.0.26100.1000' },
  };
  const e = engine();
  for (const [host, want] of Object.entries(expected)) {
    for (const isolation of ['process', 'hyperv'] as const) {
      const r = await e.distribution.pull(`${reg.domain}/win/servercore:ltsc`, { platform: `windows/amd64:10.0.${host}`, isolation });
      assert.equal(r.platform, `windows/amd64:${want[isolation]}`, `host ${host} ${isolation}`);
    }
  }
  // Hyper-V on an older host never takes a newer image; 14393 in process isolation needs 14393.
  const old = await e.distribution.pull(`${reg.domain}/win/servercore:ltsc`, { platform: 'windows/amd64:10.0.14393', isolation: 'process' });
  assert.equal(old.platform, 'windows/amd64:10.0.14393.6897');
  await assert.rejects(e.distribution.pull(`${reg.domain}/win/servercore:ltsc`, { platform: 'windows/amd64:10.0.10240' }), /no matching manifest/);
  // A foreign image is stored and inspectable, not unpacked.
  const inspect = await e.service.inspect(`${reg.domain}/win/servercore:ltsc`);
  assert.equal(inspect.Os, 'windows');
  assert.equal(inspect.OsVersion, '10.0.14393.6897');
  // Linux by default on this host.
  assert.equal((await e.distribution.pull(`${reg.domain}/win/servercore:ltsc`)).platform, 'linux/amd64');
});

test('bad documents: schema 1, ambiguous, oversized, malformed, wrong digest', async () => {
  const reg = await fake();
  const e = engine();
  putManifest(reg, 'a/b', 's1', Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'a/b', fsLayers: [] })), 'application/vnd.docker.distribution.manifest.v1+prettyjws');
  await assert.rejects(e.distribution.pull(`${reg.domain}/a/b:s1`), /schema 1 image, which is deprecated/);
  const img = await addFakeImage(reg);
  const both = JSON.parse(img.manifest.toString());
  both.manifests = [];
  putManifest(reg, 'a/b', 'both', Buffer.from(JSON.stringify(both)));
  await assert.rejects(e.distribution.pull(`${reg.domain}/a/b:both`), /both "manifests" and "layers"/);
  putManifest(reg, 'a/b', 'big', Buffer.alloc(5 * 1024 * 1024, 0x20));
  await assert.rejects(e.distribution.pull(`${reg.domain}/a/b:big`), /more than the \d+ (bytes )?allowed/);
  putManifest(reg, 'a/b', 'deep', Buffer.from('['.repeat(100) + ']'.repeat(100)));
  await assert.rejects(e.distribution.pull(`${reg.domain}/a/b:deep`), /nests deeper/);
  putManifest(reg, 'a/b', 'junk', Buffer.from('{"schemaVersion":2,'));
  await assert.rejects(e.distribution.pull(`${reg.domain}/a/b:junk`), /not valid JSON/);
  // A by-digest pull whose bytes do not hash to the digest.
  reg.manifests.set(`a/b:${sha('other')}`, { body: img.manifest, type: 'application/vnd.oci.image.manifest.v1+json' });
  await assert.rejects(e.distribution.pull(`${reg.domain}/a/b@${sha('other')}`), /manifest verification failed/);
  // A layer whose bytes are not its digest.
  putManifest(reg, 'a/b', 'ok', img.manifest);
  reg.blobs.set(img.layerDigest, Buffer.from(img.layer.toString('base64').slice(0, img.layer.length)));
  await assert.rejects(e.distribution.pull(`${reg.domain}/a/b:ok`), /expected|digest/);
  await assertNothingVisible(e);
});

test('a connection dropped mid-blob resumes with Range; a truncated blob ends in a clear error, then resumes', async () => {
  const reg = await fake();
  const img = await addFakeImage(reg, { layerBytes: 3_000_000 });
  putManifest(reg, 'r/s', '1', img.manifest);
  let drops = 1;
  reg.hook = (req, res) => {
    if (req.url?.endsWith(img.layerDigest) && !req.headers.range && drops-- > 0) {
      res.writeHead(200, { 'content-length': img.layer.length });
      res.write(img.layer.subarray(0, 1_000_000), () => res.destroy());
      return true;
    }
    return false;
  };
  const e = engine();
  const r = await e.distribution.pull(`${reg.domain}/r/s:1`);
  assert.ok(reg.requests.some((q) => /^bytes=[1-9]\d*-$/.test(String(q.headers.range))), `resumed with Range: ${reg.requests.map((q) => q.headers.range).join(',')}`);
  assert.equal((await e.images.resolve(`${reg.domain}/r/s:1`)).id, r.id);

  // Always truncated: the pull fails clearly and leaves no image; a later pull resumes the ingest.
  const reg2 = await fake();
  putManifest(reg2, 'r/s', '1', img.manifest);
  reg2.blobs = reg.blobs;
  let broken = true;
  reg2.hook = (req, res) => {
    if (broken && req.url?.endsWith(img.layerDigest)) {
      res.writeHead(200, { 'content-length': img.layer.length });
      res.write(img.layer.subarray(0, 2_000_000), () => res.destroy());
      return true;
    }
    return false;
  };
  const f = engine();
  await assert.rejects(f.distribution.pull(`${reg2.domain}/r/s:1`), (err: Error & { kind?: string }) => err.kind === 'Unavailable' && /pull again to resume|ended|downloading/.test(err.message + (err as { hint?: string }).hint));
  await assertNothingVisible(f);
  broken = false;
  reg2.requests.length = 0;
  await f.distribution.pull(`${reg2.domain}/r/s:1`);
  // The server resets the connection after 2 MB; a reset may drop bytes still in the receive buffer, so the
  // resume point is wherever the first pull's ingest really ended: non-zero, at most 2 MB.
  const resumedAt = reg2.requests.map((q) => /^bytes=(\d+)-$/.exec(String(q.headers.range))).find((m) => m && Number(m[1]) > 0);
  assert.ok(resumedAt && Number(resumedAt[1]) <= 2_000_000, `the second pull resumed the ingest: ${reg2.requests.map((q) => q.headers.range).join(',')}`);
});

test('429 and 503 are retried with back-off; a server that keeps failing ends in a clear error', async () => {
  const reg = await fake();
  const img = await addFakeImage(reg);
  putManifest(reg, 'x/y', '1', img.manifest);
  let fails = 2;
  reg.hook = (_req, res) => {
    if (fails-- > 0) {
      res.writeHead(fails ? 429 : 503, { 'retry-after': '0' }).end();
      return true;
    }
    return false;
  };
  const e = engine();
  await e.distribution.pull(`${reg.domain}/x/y:1`);
  reg.hook = (_req, res) => {
    res.writeHead(503).end('{"errors":[{"code":"UNAVAILABLE","message":"down for maintenance"}]}');
    return true;
  };
  const f = engine();
  await assert.rejects(f.distribution.pull(`${reg.domain}/x/y:1`), (err: Error & { kind?: string }) => err.kind === 'Unavailable' && /503/.test(err.message));
  await assertNothingVisible(f);
});

test('a 401 loop ends with PermissionDenied; a trickling server ends with a timeout and nothing visible', async () => {
  const reg = await fake();
  const img = await addFakeImage(reg);
  putManifest(reg, 'p/q', '1', img.manifest);
  reg.hook = (req, res) => {
    if (req.url?.startsWith('/token')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"t"}');
      return true;
    }
    res.writeHead(401, { 'www-authenticate': `Bearer realm="${reg.url}/token",service="fake",scope="repository:p/q:pull"` }).end();
    return true;
  };
  const e = engine();
  await assert.rejects(e.distribution.pull(`${reg.domain}/p/q:1`), (err: Error & { kind?: string }) => err.kind === 'PermissionDenied' && /unauthorized/.test(err.message));
  assert.ok(reg.requests.length < 10, 'no endless loop');

  reg.hook = (req, res) => {
    if (req.url?.endsWith(img.layerDigest)) {
      res.writeHead(200, { 'content-length': img.layer.length });
      res.write(img.layer.subarray(0, 10)); // then nothing more
      return true;
    }
    return false;
  };
  const t0 = Date.now();
  await assert.rejects(e.distribution.pull(`${reg.domain}/p/q:1`), (err: Error & { kind?: string }) => err.kind === 'Unavailable');
  assert.ok(Date.now() - t0 < 30_000);
  await assertNothingVisible(e);
});

test('foreign layer urls: tried after the registry, and never given the registry credentials', async () => {
  const reg = await fake();
  const cdn = await fake();
  const img = await addFakeImage(reg);
  cdn.blobs.set(img.layerDigest, img.layer);
  const m = JSON.parse(img.manifest.toString());
  m.layers[0].urls = [`${cdn.url}/v2/cdn/blobs/${img.layerDigest}`];
  m.layers[0].mediaType = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
  const body = Buffer.from(JSON.stringify(m));
  putManifest(reg, 'f/g', '1', body);
  reg.blobs.delete(img.layerDigest);
  reg.hook = (req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end();
      return true;
    }
    return false;
  };
  const e = engine();
  await e.distribution.credentials.put(reg.domain, { username: 'u', password: 'p' });
  await e.distribution.pull(`${reg.domain}/f/g:1`);
  assert.ok(reg.requests.some((q) => q.path.endsWith(img.layerDigest)), 'the registry was asked first');
  assert.ok(cdn.requests.length > 0);
  for (const q of cdn.requests) assert.equal(q.headers.authorization, undefined);
  assert.ok((await fs.stat(path.join(e.root, 'auth.json'))).isFile());
});
