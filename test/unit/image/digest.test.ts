import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chainID, chainIDs } from '../../../engine/src/image/chainid';
import { isDigest, parseDigest, sha256Digest, sha256Hex, shortId } from '../../../engine/src/image/digest';
import { parseBoundedJson } from '../../../engine/src/image/json';

const sha = (s: string) => 'sha256:' + createHash('sha256').update(s).digest('hex');

test('digests are validated by algorithm', () => {
  const d = sha('x');
  assert.deepEqual(parseDigest(d), { algorithm: 'sha256', encoded: d.slice(7) });
  assert.equal(sha256Digest('x'), d);
  assert.equal(sha256Hex(d), d.slice(7));
  assert.equal(shortId(d), d.slice(7, 19));
  assert.equal(isDigest('sha512:' + 'a'.repeat(128)), true);
  for (const bad of ['sha256:ABC', 'sha256:' + 'A'.repeat(64), 'sha256:' + 'a'.repeat(63), 'md5:abc', 'nocolon', ':abc']) {
    assert.equal(isDigest(bad), false, bad);
    assert.throws(() => parseDigest(bad), { kind: 'InvalidArgument' });
  }
});

test('chain IDs follow the image-spec formula', () => {
  const [a, b, c] = [sha('a'), sha('b'), sha('c')];
  const ab = sha(`${a} ${b}`);
  const abc = sha(`${ab} ${c}`);
  assert.deepEqual(chainIDs([a, b, c]), [a, ab, abc]);
  assert.equal(chainID([a, b, c]), abc);
  assert.equal(chainID([]), undefined);
  assert.throws(() => chainIDs(['nope']), { kind: 'InvalidArgument' });
});

test('bounded JSON refuses oversize, deep and malformed input with one clear message', () => {
  assert.deepEqual(parseBoundedJson('{"a":[1,{"b":"[[["}]}', 'x'), { a: [1, { b: '[[[' }] });
  assert.throws(() => parseBoundedJson('['.repeat(100) + ']'.repeat(100), 'manifest.json'), /manifest.json nests deeper than 64 levels/);
  assert.throws(() => parseBoundedJson('{"a":', 'manifest.json'), /manifest.json is not valid JSON/);
  assert.throws(() => parseBoundedJson('"str"', 'manifest.json'), /not a JSON object or array/);
  assert.throws(() => parseBoundedJson(Buffer.alloc(5 * 1024 * 1024, 32), 'big'), /more than the 4194304 allowed/);
});
