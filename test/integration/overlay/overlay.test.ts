// Real overlayfs, as root: two layers (the second deletes and changes files of the first), a writable
// snapshot mounted with mount(8), writes and deletes through the mount, then changes() must say what
// `docker diff` says, and exportChanges() applied over the image's tree must give the merged tree.
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

const tree = (root: string) => fixtureTree(root, { fileMtimes: true });

const L1 = 'sha256:' + '1'.repeat(64);
const L2 = 'sha256:' + '2'.repeat(64);

const layer1: FixtureEntry[] = [
  { type: 'dir', name: 'etc/', mtime: 1_600_000_000 },
  { type: 'file', name: 'etc/hosts', body: '127.0.0.1 localhost\n' },
  { type: 'file', name: 'etc/passwd', body: 'root:x:0:0::/root:/bin/sh\n' },
  { type: 'file', name: 'etc/motd', body: 'hello\n' },
  { type: 'dir', name: 'usr/', mtime: 1_600_000_000 },
  { type: 'dir', name: 'usr/bin/', mtime: 1_600_000_000 },
  { type: 'file', name: 'usr/bin/tool', body: 'v1', mode: 0o755 },
  { type: 'link', name: 'usr/bin/tool-alias', target: 'usr/bin/tool' },
  { type: 'symlink', name: 'usr/bin/sh', target: 'tool' },
  { type: 'dir', name: 'var/', mtime: 1_600_000_000 },
  { type: 'dir', name: 'var/lib/', mtime: 1_600_000_000 },
  { type: 'dir', name: 'var/lib/data/', mtime: 1_600_000_000 },
  { type: 'file', name: 'var/lib/data/a', body: 'a' },
  { type: 'file', name: 'var/lib/data/b', body: 'b' },
  { type: 'dir', name: 'opt/', mtime: 1_600_000_000 },
  { type: 'dir', name: 'opt/old/', mtime: 1_600_000_000 },
  { type: 'file', name: 'opt/old/x', body: 'x' },
];
const layer2: FixtureEntry[] = [
  { type: 'dir', name: 'etc/', mtime: 1_600_000_100 },
  { type: 'file', name: 'etc/.wh.passwd', body: '' },
  { type: 'file', name: 'etc/motd', body: 'new motd\n' },
  { type: 'dir', name: 'opt/', mtime: 1_600_000_100 },
  { type: 'file', name: 'opt/.wh.old', body: '' },
  { type: 'dir', name: 'var/lib/data/', mtime: 1_600_000_100 },
  { type: 'file', name: 'var/lib/data/.wh..wh..opq', body: '' },
  { type: 'file', name: 'var/lib/data/c', body: 'c' },
];


test('overlayfs snapshot: docker-diff changes, and an export that reproduces the merged tree', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const work = fs.mkdtempSync('/var/tmp/silo-overlay-');
  const target = path.join(work, 'merged');
  let mounted = false;
  try {
    const snap = new OverlaySnapshotter(path.join(work, 'layers'), path.join(work, 'snapshots'), special);
    assert.deepEqual(await snap.applyLayer(L1, undefined, Readable.from(await buildTar(layer1))), { size: 57 });
    await snap.applyLayer(L2, L1, Readable.from(await buildTar(layer2)));
    assert.equal(await snap.hasLayer(L2), true);

    const [m] = await snap.prepare('c1', L2);
    assert.equal(m.type, 'overlay');
    const lowers = m.options[0].replace(/^lowerdir=/, '').split(':');
    assert.deepEqual(
      lowers,
      [path.join(work, 'snapshots', 'c1', 'init'), path.join(work, 'layers', '2'.repeat(64), 'fs'), path.join(work, 'layers', '1'.repeat(64), 'fs')],
      "the init layer (the runtime's mount points), then the image's layers, top first",
    );

    fs.mkdirSync(target);
    execFileSync('mount', ['-t', m.type, m.source, '-o', m.options.join(','), target]);
    mounted = true;
    // The image as the container sees it.
    assert.equal(fs.existsSync(path.join(target, 'etc/passwd')), false);
    assert.equal(fs.readFileSync(path.join(target, 'etc/motd'), 'utf8'), 'new motd\n');
    assert.deepEqual(fs.readdirSync(path.join(target, 'var/lib/data')), ['c']);
    assert.deepEqual(fs.readdirSync(path.join(target, 'opt')), []);

    // What the container does.
    fs.writeFileSync(path.join(target, 'etc/newfile'), 'new');
    fs.appendFileSync(path.join(target, 'usr/bin/tool'), '+patch');
    fs.rmSync(path.join(target, 'etc/hosts'));
    fs.rmSync(path.join(target, 'var/lib/data'), { recursive: true });
    fs.mkdirSync(path.join(target, 'var/lib/data'));
    fs.writeFileSync(path.join(target, 'var/lib/data/d'), 'd');
    fs.mkdirSync(path.join(target, 'newdir/sub'), { recursive: true });
    fs.writeFileSync(path.join(target, 'newdir/sub/f'), 'f');
    const merged = tree(target);
    execFileSync('umount', [target]);
    mounted = false;

    assert.deepEqual((await snap.changes('c1')).map((c) => `${c.kind} ${c.path}`), [
      'C /etc',
      'D /etc/hosts',
      'A /etc/newfile',
      'A /newdir',
      'A /newdir/sub',
      'A /newdir/sub/f',
      'C /usr/bin/tool',
      'C /var/lib',
      'C /var/lib/data',
      'D /var/lib/data/c',
      'A /var/lib/data/d',
    ]);

    // The image's tree, then the exported diff applied over it, must equal what the container saw.
    const copy = path.join(work, 'copy');
    fs.mkdirSync(copy);
    await extractLayer(Readable.from(await buildTar(layer1)), copy, { special, whiteouts: 'apply' });
    await extractLayer(Readable.from(await buildTar(layer2)), copy, { special, whiteouts: 'apply' });
    await extractLayer(snap.exportChanges('c1'), copy, { special, whiteouts: 'apply' });
    // The init layer's mount points (/proc, /dev/pts, /etc/hostname, ...) belong to no layer: leave them out.
    const image = tree(copy);
    const initOnly = Object.keys(tree(path.join(work, 'snapshots', 'c1', 'init'))).filter((k) => !(k in image));
    for (const k of initOnly) delete merged[k];
    assert.deepEqual(image, merged);

    assert.deepEqual(await snap.list(), { layers: [L1, L2], snapshots: ['c1'] });
    await assert.rejects(snap.removeLayer(L1), /parent of layer/);
    await snap.remove('c1');
    await snap.removeLayer(L2);
    await snap.removeLayer(L1);
    assert.deepEqual(await snap.list(), { layers: [], snapshots: [] });
  } finally {
    if (mounted) execFileSync('umount', [target]);
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('an image without layers gets an empty lower dir', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const work = fs.mkdtempSync('/var/tmp/silo-overlay-');
  try {
    const snap = new OverlaySnapshotter(path.join(work, 'layers'), path.join(work, 'snapshots'), special);
    const [m] = await snap.prepare('scratch', undefined);
    const [init, lower] = m.options[0].replace(/^lowerdir=/, '').split(':');
    assert.deepEqual(fs.readdirSync(init).sort(), ['dev', 'etc', 'proc', 'sys']);
    assert.deepEqual(fs.readdirSync(lower), []);
    assert.deepEqual(await snap.changes('scratch'), []);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
