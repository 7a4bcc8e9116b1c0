import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenges } from '../../../engine/src/registry/challenge';
import { parsePlatform } from '../../../engine/src/registry/platform';
import { parseManifestDocument } from '../../../engine/src/registry/manifest';

test('WWW-Authenticate: bearer with quoted params and commas in scope; basic', () => {
  const [c] = parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"');
  assert.deepEqual(c, { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } });
  assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
});

test('--platform: linux/arm64/v8, windows/amd64:10.0.20348, bad input refused', () => {
  assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(parsePlatform('windows/amd64:10.0.20348'), { os: 'windows', architecture: 'amd64', osVersion: '10.0.20348' });
  assert.throws(() => parsePlatform('linux/amd64:10.0.1'), /only meaningful for windows/);
  assert.throws(() => parsePlatform('??'), /invalid platform/);
});

test('manifest documents: media type from the body or the header; schema 1 named', () => {
  const doc = parseManifestDocument(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [] })), 'application/vnd.oci.image.index.v1+json', 'm');
  assert.equal(doc.kind, 'index');
  assert.throws(() => parseManifestDocument(Buffer.from('{}'), 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'm'), /schema 1/);
});
