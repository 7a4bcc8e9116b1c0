import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageSummary } from '../../../engine/src/protocol';
import { humanSize, imageRows } from '../../../client/src/model/imageRows';
import { changeItems, historyItems, instructionOf, layerFileItems } from '../../../client/src/model/layerRows';
import { formatLayerPath, parseSiloAddress } from '../../../client/src/model/siloUri';
import { ContextValues } from '../../../client/src/model/viewIds';

const img = (over: Partial<ImageSummary>): ImageSummary => ({
  repository: 'busybox', tag: 'latest', id: 'sha256:' + 'c'.repeat(64), digest: '', created: '2026-11-24T00:00:00Z', size: 4_261_000, os: 'linux', architecture: 'amd64', ...over,
});

test('images show repo:tag, OS, size and age; dangling ones are hidden unless asked for', () => {
  const list = [img({}), img({ repository: '<none>', tag: '<none>', id: 'sha256:' + 'd'.repeat(64) })];
  const now = Date.parse('2026-11-24T02:00:00Z');
  const shown = imageRows(list, now, false);
  assert.deepEqual(shown.map((r) => r.label), ['busybox:latest']);
  assert.equal(shown[0].description, 'linux/amd64 · 4.26MB · 2 hours ago');
  assert.equal(shown[0].contextValue, ContextValues.image);
  const all = imageRows(list, now, true);
  assert.deepEqual(all.map((r) => r.label), ['<none> (dddddddddddd)', 'busybox:latest']);
  assert.equal(all[0].ref, 'dddddddddddd');
});

test('sizes use decimal units with three significant digits', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(1240), '1.24kB');
  assert.equal(humanSize(123_456_789), '123MB');
});

test('history rows read as Dockerfile instructions, oldest first', () => {
  const items = historyItems([
    { Id: 'b', Created: 2, CreatedBy: '/bin/sh -c #(nop)  CMD ["sh"]', Tags: null, Size: 0, Comment: '' },
    { Id: 'a', Created: 1, CreatedBy: '/bin/sh -c apk add curl', Tags: null, Size: 2_000_000, Comment: '' },
  ]);
  assert.deepEqual(items.map((i) => [i.label, i.description]), [['RUN apk add curl', '2MB'], ['CMD ["sh"]', '0B']]);
  assert.equal(instructionOf('cmd /S /C #(nop) WORKDIR C:\\app'), 'WORKDIR C:\\app');
});

test('a deleted file is told apart from added and changed ones', () => {
  const items = changeItems([{ kind: 'A', path: '/new' }, { kind: 'C', path: '/etc' }, { kind: 'D', path: '/gone' }]);
  assert.deepEqual(items.map((i) => [i.description, i.contextValue]), [
    ['A · added', ContextValues.change],
    ['C · changed', ContextValues.change],
    ['D · deleted', ContextValues.changeDeleted],
  ]);
});

test('a step that added a layer lists its files; metadata-only steps list none', () => {
  const rows = [
    { Id: 'b', Created: 2, CreatedBy: '/bin/sh -c #(nop)  CMD ["sh"]', Tags: null, Size: 0, Comment: '' },
    { Id: 'a', Created: 1, CreatedBy: '/bin/sh -c #(nop) ADD file:abc in /', Tags: null, Size: 0, Comment: '' },
  ];
  // The engine's images/layers answer is aligned with the rows, newest first; a layer of unknown size still lists files.
  const items = historyItems(rows, [null, 0]);
  assert.deepEqual(items.map((i) => [i.label, i.layer, i.empty]), [['ADD file:abc in /', 0, false], ['CMD ["sh"]', null, true]]);
});

test("a layer's files, by path: sizes, links, whiteouts as deletions, and a row for what the cap left out", () => {
  const items = layerFileItems({
    entries: [
      { path: '/bin/busybox', kind: 'file', size: 1_131_168 },
      { path: '/bin', kind: 'dir', size: 0 },
      { path: '/bin/sh', kind: 'file', size: 0, target: '/bin/busybox' },
      { path: '/lib64', kind: 'symlink', size: 0, target: 'lib' },
      { path: '/etc/motd', kind: 'whiteout', size: 0 },
      { path: '/var/cache', kind: 'whiteout', size: 0, opaque: true },
    ],
    more: 12_345,
  });
  assert.deepEqual(
    items.map((i) => [i.label, i.description, i.openPath]),
    [
      ['/bin/', '', undefined],
      ['/bin/busybox', '1.13MB', '/bin/busybox'],
      ['/bin/sh', 'hard link to /bin/busybox', '/bin/sh'],
      ['/etc/motd', 'deleted', undefined],
      ['/lib64', '→ lib', '/lib64'],
      ['/var/cache/', 'deleted · contents of lower layers', undefined],
      ['…12,345 more', '', undefined],
    ],
  );
  assert.deepEqual([items[3].contextValue, items[6].contextValue], [ContextValues.layerFileDeleted, ContextValues.layerFileMore]);
});

test('layer files have silo://layer addresses by image ID and layer index', () => {
  const id = 'sha256:' + 'e'.repeat(64);
  const p = formatLayerPath({ imageId: id, index: 3, path: '/bin/busybox' });
  assert.equal(p, `/${'e'.repeat(64)}/3/bin/busybox`);
  assert.deepEqual(parseSiloAddress('layer', p), { view: 'layer', imageId: 'e'.repeat(64), index: 3, path: '/bin/busybox' });
  assert.equal(parseSiloAddress('layer', '/abc/x/bin'), undefined);
});
