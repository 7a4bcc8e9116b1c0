import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  familiarString,
  formatReference,
  normalizeReference,
  parseReference,
  validateTag,
} from '../../../engine/src/image/reference';

const D = 'sha256:' + 'a'.repeat(64);

test('names normalise the way the docker CLI does', () => {
  const cases: Array<[string, string, string]> = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['user/app:v1', 'docker.io/user/app:v1', 'user/app:v1'],
    ['localhost:5000/a/b:t', 'localhost:5000/a/b:t', 'localhost:5000/a/b:t'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['mcr.microsoft.com/windows/nanoserver:ltsc2022', 'mcr.microsoft.com/windows/nanoserver:ltsc2022', 'mcr.microsoft.com/windows/nanoserver:ltsc2022'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`, `busybox@${D}`],
    [`busybox:1.36@${D}`, `docker.io/library/busybox@${D}`, `busybox@${D}`],
    ['[::1]:5000/app', '[::1]:5000/app:latest', '[::1]:5000/app:latest'],
    ['a.b-c__d/e', 'a.b-c__d/e:latest', 'a.b-c__d/e:latest'],
  ];
  for (const [input, full, familiar] of cases) {
    const r = normalizeReference(input);
    assert.equal(formatReference(r), full, input);
    assert.equal(familiarString(r), familiar, input);
  }
});

test('parseReference keeps both tag and digest and adds no tag', () => {
  assert.deepEqual(parseReference(`x:1@${D}`), { domain: 'docker.io', path: 'library/x', tag: '1', digest: D });
  assert.deepEqual(parseReference('x'), { domain: 'docker.io', path: 'library/x', tag: undefined, digest: undefined });
});

test('malformed references are InvalidArgument with Docker\'s reason', () => {
  const bad: Array<[string, RegExp]> = [
    ['Busybox', /^invalid reference format: repository name must be lowercase$/],
    ['docker.io/Library/busybox', /repository name must be lowercase/],
    ['', /invalid reference format/],
    ['busybox:', /^invalid reference format$/],
    ['busybox:-tag', /^invalid reference format$/],
    ['-busybox', /^invalid reference format$/],
    ['busy box', /^invalid reference format$/],
    ['a//b', /^invalid reference format$/],
    ['busybox@sha256:abc', /^invalid reference format$/],
    ['busybox:' + 't'.repeat(129), /^invalid reference format$/],
    ['a'.repeat(64), /cannot specify 64-byte hexadecimal strings/],
    ['x/' + 'a'.repeat(250), /must not be more than 255 characters/],
  ];
  for (const [input, msg] of bad) {
    assert.throws(() => normalizeReference(input), (err: Error & { kind?: string }) => {
      assert.equal(err.kind, 'InvalidArgument', input);
      assert.match(err.message, msg, input);
      return true;
    });
  }
});

test('uppercase in the registry host is allowed (it is a host name)', () => {
  assert.equal(formatReference(normalizeReference('Registry.Example:5000/app')), 'Registry.Example:5000/app:latest');
});

test('tags alone are validated', () => {
  validateTag('v1.0_rc-2');
  assert.throws(() => validateTag('.x'), { kind: 'InvalidArgument' });
  assert.throws(() => validateTag('a'.repeat(129)), { kind: 'InvalidArgument' });
});
