// What a build step asks of the overlayfs snapshotter, on real overlayfs as root: a stopped step
// container's writable snapshot becomes the committed layer itself (commitSnapshot) and must show the
// same tree as unpacking its exported tar would; an image's directory fills a volume (copyPath) as the
// merged tree has it; a volume's missing mount point is made as runc makes it (makeMountPoint).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { extractLayer } from '../../../engine/src/layers/extract';
import { linuxSpecialFiles as special } from '../../../engine/src/platform/linux/libc';
import { OverlaySnapshotter } from '../../../engine/src/platform/linux/overlay';
import { buildTar, type FixtureEntry } from '../../fixtures/layers/tars';
import { fixtureTree } from '../../fixtures/fixtureTree';

const tree = (root: string) => fixtureTree(root);

const skip = process.getuid?.() !== 0 && 'needs root';
const L1 = 'sha256:' + '1'.repeat(64);
const L2 = 'sha256:' + '2'.repeat(64);
const L3 = 'sha256:' + '3'.repeat(64);

const layer1: FixtureEntry[] = [
  { type: 'dir', name: 'etc/', mtime: 1_600_000_000 },
  { type: 'file', name: 'etc/hosts', body: '127.0.0.1 localhost\n' },
  { type: 'file', name: 'etc/motd', body: 'hello\n' },
  { type: 'dir', name: 'data/', mode: 0o750, uid: 7, gid: 8, mtime: 1_600_000_000 },
  { type: 'file', name: 'data/a', body: 'a', uid: 7, gid: 8 },
  { type: 'file', name: 'data/gone', body: 'gone' },
  { type: 'dir', name: 'data/sub/', mtime: 1_600_000_000 },
  { type: 'file', name: 'data/sub/old', body: 'old' },
  { type: 'symlink', name: 'data/link', target: 'a' },
  { type: 'dir', name: 'var/', mtime: 1_600_000_000 },
  { type: 'dir', name: 'var/lib/', mode: 0o700, uid: 5, gid: 6, mtime: 1_600_000_000 },
];
const layer2: FixtureEntry[] = [
  { type: 'dir', name: 'data/', mode: 0o750, uid: 7, gid: 8, mtime: 1_600_000_100 },
  { type: 'file', name: 'data/.wh.gone', body: '' },
  { type: 'file', name: 'data/b', body: 'b', mode: 0o600 },
  { type: 'dir', name: 'data/sub/', mtime: 1_600_000_100 },
  { type: 'file', name: 'data/sub/.wh..wh..opq', body: '' },
  { type: 'file', name: 'data/sub/new', body: 'new' },
];


/** A work dir with the two layers applied, and a way to mount snapshots that is always undone. */
async function setUp(): Promise<{ work: string; snap: OverlaySnapshotter; mount(key: string): Promise<string>; cleanUp(): void }> {
  const work = fs.mkdtempSync('/var/tmp/silo-snaplayer-');
  const snap = new OverlaySnapshotter(path.join(work, 'layers'), path.join(work, 'snapshots'), special);
  await snap.applyLayer(L1, undefined, Readable.from(await buildTar(layer1)));
  await snap.applyLayer(L2, L1, Readable.from(await buildTar(layer2)));
  const mounted: string[] = [];
  return {
    work,
    snap,
    async mount(key) {
      const [m] = await snap.mounts(key);
      const target = path.join(work, `mnt-${key}`);
      fs.mkdirSync(target);
      execFileSync('mount', ['-t', m.type, m.source, '-o', m.options.join(','), target]);
      mounted.push(target);
      return target;
    },
    cleanUp() {
      for (const t of mounted) spawnUmount(t);
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

function spawnUmount(target: string): void {
  try {
    execFileSync('umount', [target], { stdio: 'ignore' });
  } catch {
    // not mounted (any more)
  }
}

test('a stopped container snapshot committed as a layer shows what its exported tar would', { skip }, async () => {
  const t = await setUp();
  try {
    await t.snap.prepare('step', L2);
    const root = await t.mount('step');
    fs.writeFileSync(path.join(root, 'etc/new'), 'new\n');
    fs.appendFileSync(path.join(root, 'etc/motd'), 'more\n');
    fs.rmSync(path.join(root, 'etc/hosts'));
    fs.rmSync(path.join(root, 'data/sub'), { recursive: true });
    fs.mkdirSync(path.join(root, 'data/sub'));
    fs.writeFileSync(path.join(root, 'data/sub/again'), 'again');
    fs.mkdirSync(path.join(root, 'opt/deep'), { recursive: true });
    fs.chmodSync(path.join(root, 'opt'), 0o711);
    const seen = tree(root);
    spawnUmount(root);

    // The other way, for comparison: the parent's tree with the exported tar applied over it.
    const unpacked = path.join(t.work, 'unpacked');
    fs.mkdirSync(unpacked);
    for (const l of [layer1, layer2]) await extractLayer(Readable.from(await buildTar(l)), unpacked, { special, whiteouts: 'apply' });
    await extractLayer(t.snap.exportChanges('step'), unpacked, { special, whiteouts: 'apply' });

    const { size } = await t.snap.commitSnapshot('step', L3, L2);
    assert.equal(size, 'new\n'.length + 'hello\nmore\n'.length + 'again'.length, 'the bytes of the files the step wrote');
    assert.equal(await t.snap.hasLayer(L3), true);
    assert.deepEqual(await t.snap.changes('step'), [], 'the snapshot is left empty');

    await t.snap.prepare('child', L3);
    const child = tree(await t.mount('child'));
    // The init layer's mount points are in every container's tree and in no layer.
    for (const k of ['dev', 'dev/pts', 'dev/shm', 'proc', 'sys', 'etc/hostname', 'etc/resolv.conf', 'etc/hosts']) {
      if (!fs.existsSync(path.join(unpacked, k))) {
        delete seen[k];
        delete child[k];
      }
    }
    assert.deepEqual(child, seen, 'a container over the new layer sees what the step left');
    assert.deepEqual(child, tree(unpacked), 'the same tree as unpacking the layer tar');

    // Committing again to an existing layer keeps the existing one.
    await t.snap.prepare('again', L2);
    assert.deepEqual(await t.snap.commitSnapshot('again', L3, L2), { size });
    await assert.rejects(t.snap.commitSnapshot('again', 'sha256:' + '4'.repeat(64), L1), /not sha256:1/);
    assert.deepEqual((await t.snap.list()).layers, [L1, L2, L3]);
  } finally {
    t.cleanUp();
  }
});

test('copyPath fills a volume with what the image has there, whiteouts and opaque dirs honoured', { skip }, async () => {
  const t = await setUp();
  try {
    await t.snap.prepare('view', L2);
    const root = await t.mount('view');
    const expected = tree(path.join(root, 'data'));
    const expectedRoot = fs.statSync(path.join(root, 'data'));
    spawnUmount(root);

    const vol = path.join(t.work, 'vol');
    fs.mkdirSync(vol);
    await t.snap.copyPath(L2, '/data', vol);
    assert.deepEqual(tree(vol), expected);
    assert.deepEqual(Object.keys(expected).sort(), ['a', 'b', 'link', 'sub', 'sub/new']);
    const st = fs.statSync(vol);
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [expectedRoot.mode & 0o7777, 7, 8]);

    // Nothing there in the image: the volume stays empty.
    const empty = path.join(t.work, 'empty');
    fs.mkdirSync(empty, { mode: 0o755 });
    await t.snap.copyPath(L2, '/no/such/dir', empty);
    await t.snap.copyPath(L2, '/etc/motd', empty);
    assert.deepEqual(fs.readdirSync(empty), []);
  } finally {
    t.cleanUp();
  }
});

test('makeMountPoint makes a missing volume directory 0755 and keeps its parents as the image has them', { skip }, async () => {
  const t = await setUp();
  try {
    await t.snap.prepare('run', L2);
    await t.snap.makeMountPoint('run', '/var/lib/x/y');
    await t.snap.makeMountPoint('run', '/data'); // exists: nothing to do
    await t.snap.makeMountPoint('run', '/data/link/z'); // through a symlink: left to the runtime
    const root = await t.mount('run');
    const mode = (p: string) => {
      const st = fs.lstatSync(path.join(root, p));
      return `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    };
    assert.equal(mode('var/lib'), '700 5:6');
    assert.equal(mode('var/lib/x'), '755 0:0');
    assert.equal(mode('var/lib/x/y'), '755 0:0');
    assert.equal(mode('data'), '750 7:8');
    assert.equal(fs.existsSync(path.join(root, 'data/a/z')), false);
    spawnUmount(root);
    assert.deepEqual((await t.snap.changes('run')).map((c) => `${c.kind} ${c.path}`), ['C /var/lib', 'A /var/lib/x', 'A /var/lib/x/y']);
  } finally {
    t.cleanUp();
  }
});
