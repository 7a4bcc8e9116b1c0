import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLayeredFile, relativeInRoot } from '../../../engine/src/layers/readFile';
import type { SpecialFiles } from '../../../engine/src/layers/special';

// Layer dirs without opaque directories: no xattrs needed.
const noXattrs: SpecialFiles = { mknod() {}, lsetxattr() {}, lgetxattr: () => undefined, llistxattr: () => [] };

function layers() {
  const root = mkdtempSync(join(tmpdir(), 'silo-readfile-'));
  const upper = join(root, 'upper');
  const lower = join(root, 'lower');
  for (const d of [upper, lower, join(lower, 'etc'), join(upper, 'etc'), join(lower, 'data')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(lower, 'etc', 'motd'), 'image motd\n');
  writeFileSync(join(upper, 'etc', 'motd'), 'container motd\n');
  writeFileSync(join(lower, 'etc', 'gone'), 'deleted in the container\n');
  writeFileSync(join(lower, 'data', 'x'), 'x\n');
  symlinkSync('/', join(upper, 'escape'));
  writeFileSync(join(root, 'secret'), 'outside\n');
  return { root, upper, lower };
}

test('the merged view reads the container\'s version, the image view the image\'s', async () => {
  const { upper, lower } = layers();
  const merged = await readLayeredFile([upper, lower], noXattrs, '/etc/motd');
  const image = await readLayeredFile([lower], noXattrs, '/etc/motd');
  assert.equal(merged.data?.toString(), 'container motd\n');
  assert.equal(image.data?.toString(), 'image motd\n');
});

test('a whiteout hides the image\'s file in the merged view', { skip: process.getuid?.() !== 0 && 'mknod needs root' }, async () => {
  const { upper, lower } = layers();
  execFileSync('mknod', [join(upper, 'etc', 'gone'), 'c', '0', '0']);
  await assert.rejects(readLayeredFile([upper, lower], noXattrs, '/etc/gone'), /no file \/etc\/gone/);
  assert.equal((await readLayeredFile([lower], noXattrs, '/etc/gone')).data?.toString(), 'deleted in the container\n');
});

test('paths never leave the layers: ".." is refused and symlinks are not followed', async () => {
  const { upper, lower } = layers();
  await assert.rejects(readLayeredFile([upper, lower], noXattrs, '/../secret'), /leaves the container's root/);
  const link = await readLayeredFile([upper, lower], noXattrs, '/escape');
  assert.deepEqual([link.type, link.target, link.data], ['symlink', '/', undefined]);
  await assert.rejects(readLayeredFile([upper, lower], noXattrs, '/escape/etc/passwd'), /no file/);
  assert.equal(relativeInRoot('//etc/./hosts'), 'etc/hosts');
});
