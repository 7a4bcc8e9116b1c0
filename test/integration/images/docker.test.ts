// Interop with the real Docker (a private dockerd 20.10) and skopeo: docker save -> silo load,
// silo save -> docker load -> docker run, and OCI archives through skopeo in both directions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { DOCKER_CLIENT, startDockerd, type PrivateDockerd } from '../../fixtures/fixtureDockerd';
import { fixtureBusyboxRootfs, fixtureImageEngine } from '../../fixtures/fixtureImageService';

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv, input?: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out).toString()) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString()}`))));
    child.stdin.end(input);
  });
}

let dockerd: PrivateDockerd | undefined;
let dockerdError = '';
const work = mkdtempSync(path.join(os.tmpdir(), 'silo-interop-'));

test.before(async () => {
  try {
    dockerd = await startDockerd();
  } catch (err) {
    dockerdError = (err as Error).message;
  }
});
test.after(async () => {
  await dockerd?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

const docker = (args: string[], input?: Buffer) => run(DOCKER_CLIENT, args, dockerd!.env, input);

/** The parts of `docker image inspect` that describe the image itself (not this daemon's storage of it). */
function portable(i: Record<string, unknown>) {
  const { Id, RepoTags, RepoDigests, Parent, Comment, Created, Container, ContainerConfig, DockerVersion, Author, Config, Architecture, Variant, Os, OsVersion, RootFS } = i;
  return { Id, RepoTags, RepoDigests, Parent, Comment, Created, Container, ContainerConfig, DockerVersion, Author, Config, Architecture, Variant, Os, OsVersion, RootFS };
}

test('docker import + docker save -> silo load: the same image, inspected the same', async (t) => {
  if (!dockerd) return t.skip(`no private dockerd: ${dockerdError}`);
  const rootfs = await fixtureBusyboxRootfs();
  const id = (await docker(['import', '--change', 'CMD ["sh"]', '--change', 'ENV GREETING=hi', '-', 'busybox:fromdocker'], rootfs)).trim();
  const saved = path.join(work, 'docker-saved.tar');
  await docker(['save', '-o', saved, 'busybox:fromdocker']);

  const e = fixtureImageEngine();
  t.after(() => e.cleanup());
  const loaded = await e.service.load(createReadStream(saved));
  assert.deepEqual(loaded, [{ id, names: ['busybox:fromdocker'] }]);
  const theirs = JSON.parse(await docker(['image', 'inspect', 'busybox:fromdocker']))[0];
  const ours = await e.service.inspect('busybox:fromdocker');
  assert.deepEqual(portable(ours as unknown as Record<string, unknown>), portable(theirs));
  // Docker's size (moby pkg/directory Size) counts symlink lengths too; the snapshotter counts file
  // contents. The difference is a few bytes per symlink, invisible in `docker images`.
  assert.ok(Math.abs(ours.Size - theirs.Size) <= 64 * 6, `size ${ours.Size} vs Docker's ${theirs.Size}`);
  const hist = await e.service.history('busybox:fromdocker');
  const theirHist = JSON.parse(`[${(await docker(['history', '--no-trunc', '--format', '{{json .}}', 'busybox:fromdocker'])).trim().split('\n').join(',')}]`);
  assert.equal(hist.length, theirHist.length);
  assert.equal(hist[0].Comment, theirHist[0].Comment);
});

test('silo import + silo save -> docker load -> docker run works', async (t) => {
  if (!dockerd) return t.skip(`no private dockerd: ${dockerdError}`);
  const e = fixtureImageEngine();
  t.after(() => e.cleanup());
  const { id } = await e.service.importRootfs(Readable.from([await fixtureBusyboxRootfs()]), { ref: 'silo/busybox:v1', changes: ['CMD ["sh"]'] });
  const file = path.join(work, 'silo-saved.tar');
  await e.service.save(['silo/busybox:v1'], createWriteStream(file));
  const out = await docker(['load', '-i', file]);
  assert.match(out, /Loaded image: silo\/busybox:v1/);
  const theirs = JSON.parse(await docker(['image', 'inspect', 'silo/busybox:v1']))[0];
  assert.equal(theirs.Id, id);
  const ours = await e.service.inspect('silo/busybox:v1');
  assert.deepEqual(portable(theirs), portable(ours as unknown as Record<string, unknown>));
  assert.equal((await docker(['run', '--rm', '--network', 'none', 'silo/busybox:v1', 'echo', 'hi'])).trim(), 'hi');
});

test('OCI archives through skopeo: skopeo -> silo load, silo save -> skopeo -> silo load', async (t) => {
  if (!dockerd) return t.skip(`no private dockerd: ${dockerdError}`);
  if (!existsSync('/usr/bin/skopeo')) return t.skip('skopeo is not installed (apt-get install skopeo)');
  const skopeo = (args: string[]) => run('/usr/bin/skopeo', ['--insecure-policy', ...args], { ...process.env, TMPDIR: work });
  const rootfs = await fixtureBusyboxRootfs();
  const id = (await docker(['import', '-', 'busybox:oci'], rootfs)).trim();
  const dockerTar = path.join(work, 'for-skopeo.tar');
  await docker(['save', '-o', dockerTar, 'busybox:oci']);
  const ociTar = path.join(work, 'skopeo-oci.tar');
  await skopeo(['copy', `docker-archive:${dockerTar}`, `oci-archive:${ociTar}:example.com/tools/busybox:oci`]);

  // skopeo rewrites a Docker config as an OCI config (containers/image manifest conversion), so the ID
  // to expect is the one its manifest names.
  const skopeoManifest = JSON.parse(await skopeo(['inspect', '--raw', `oci-archive:${ociTar}`]));
  const ociId = skopeoManifest.config.digest as string;
  const e = fixtureImageEngine();
  t.after(() => e.cleanup());
  const loaded = await e.service.load(createReadStream(ociTar));
  assert.equal(loaded.length, 1);
  assert.equal(loaded[0].id, ociId);
  assert.equal((await e.service.inspect(ociId)).RootFS.Layers[0], JSON.parse(await docker(['image', 'inspect', id]))[0].RootFS.Layers[0], 'the same layer');
  assert.deepEqual(loaded[0].names, ['example.com/tools/busybox:oci']);
  const rec = await e.images.resolve('example.com/tools/busybox:oci');
  assert.equal(rec.layers[0].blob.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');

  // And back: silo save -> skopeo reads it as oci-archive and writes a new one -> silo load elsewhere.
  const siloTar = path.join(work, 'silo-oci.tar');
  await e.service.save(['example.com/tools/busybox:oci'], createWriteStream(siloTar));
  const inspected = JSON.parse(await skopeo(['inspect', '--raw', `oci-archive:${siloTar}`]));
  assert.equal(inspected.config.digest, ociId);
  const copied = path.join(work, 'skopeo-copied.tar');
  await skopeo(['copy', `oci-archive:${siloTar}`, `oci-archive:${copied}:again:v2`]);
  const e2 = fixtureImageEngine();
  t.after(() => e2.cleanup());
  const back = await e2.service.load(createReadStream(copied));
  assert.deepEqual(back, [{ id: ociId, names: ['again:v2'] }]);
});
