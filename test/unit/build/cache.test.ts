// The build cache: keys, misses that say why, and which images count as intermediate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BuildCache, cacheKey, type CacheInputs } from '../../../engine/src/build/cache';

function withCache(fn: (c: BuildCache, root: string) => Promise<void>) {
  return async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'silo-cache-'));
    try {
      await fn(new BuildCache(root), root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
}

const step = (parent: string, instruction: string, image: string, extra: Partial<CacheInputs> = {}) => {
  const inputs: CacheInputs = { parent, platform: 'linux/amd64', instruction, args: {}, ...extra };
  return { ...inputs, key: cacheKey(inputs), image, created: new Date().toISOString() };
};

test('a step rebuilt under the same key keeps the image it replaced intermediate while it has children', withCache(async (cache) => {
  // First build: base -> A (ENV) -> B (WORKDIR).
  await cache.put(step('sha256:base', 'ENV APP=/app', 'sha256:A'));
  await cache.put(step('sha256:A', 'WORKDIR /app', 'sha256:B'));
  // --no-cache: the ENV step is rebuilt as A2 under the same key, then its child under a new key.
  await cache.put(step('sha256:base', 'ENV APP=/app', 'sha256:A2'));
  await cache.put(step('sha256:A2', 'WORKDIR /app', 'sha256:B2'));
  const ids = cache.imagesSync();
  for (const id of ['sha256:A', 'sha256:B', 'sha256:A2', 'sha256:B2']) assert.ok(ids.has(id), id);
  assert.deepEqual(await cache.images(), ids);
}));

test('records survive a new engine process (read back from disk)', withCache(async (cache, root) => {
  await cache.put(step('sha256:base', 'RUN ["sh","-c","true"]', 'sha256:R'));
  const again = new BuildCache(root);
  assert.ok((await again.images()).has('sha256:R'));
  assert.equal((await again.get(cacheKey(step('sha256:base', 'RUN ["sh","-c","true"]', ''))))?.image, 'sha256:R');
}));

test('a miss names the build arg or the file that changed', withCache(async (cache) => {
  await cache.put(step('sha256:P', 'RUN x', 'sha256:1', { args: { V: 'a' } }));
  assert.equal(await cache.explainMiss({ parent: 'sha256:P', platform: 'linux/amd64', instruction: 'RUN x', args: { V: 'b' } }), 'build arg V changed (a -> b)');
  await cache.put(step('sha256:P', 'COPY . /', 'sha256:2', { filesHash: 'h1', files: { 'a.txt': '1', 'b.txt': '1' } }));
  assert.equal(
    await cache.explainMiss({ parent: 'sha256:P', platform: 'linux/amd64', instruction: 'COPY . /', args: {}, filesHash: 'h2', files: { 'a.txt': '1', 'b.txt': '2' } }),
    'file changed: b.txt',
  );
  assert.equal(await cache.explainMiss({ parent: 'sha256:Q', platform: 'linux/amd64', instruction: 'RUN x', args: {} }), 'not built before on this parent image');
}));
