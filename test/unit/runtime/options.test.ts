import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeEnv, parseBindSpec, parseCpus, parseEnv, parseEnvFile, parseMemory, parsePortSpec, signalNumber } from '../../../engine/src/runtime/options';

test('-p accepts docker forms and refuses bad ones with the expected form', () => {
  assert.deepEqual(parsePortSpec('127.0.0.1:8080:80'), { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' });
  assert.deepEqual(parsePortSpec('8080:80/udp'), { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'udp' });
  assert.deepEqual(parsePortSpec('[::1]:9000:90'), { hostIp: '::1', hostPort: 9000, containerPort: 90, protocol: 'tcp' });
  for (const bad of ['80', 'a:b', '70000:80', '1.2.3.4:80:0', '8080:80/sctp', 'host:8080:80']) {
    assert.throws(() => parsePortSpec(bad), (e: Error) => /invalid publish spec/.test(e.message), bad);
  }
});

test('-v takes absolute host and container paths, with ro', () => {
  assert.deepEqual(parseBindSpec('/srv:/www:ro'), { source: '/srv', target: '/www', readonly: true });
  assert.deepEqual(parseBindSpec('/srv:/www'), { source: '/srv', target: '/www', readonly: false });
  assert.throws(() => parseBindSpec('data:/www'), /named volumes/);
  assert.throws(() => parseBindSpec('/srv:www'), /must be absolute/);
  assert.throws(() => parseBindSpec('/srv:/a/../b'), /\.\./);
  assert.throws(() => parseBindSpec('/srv:/www:xx'), /unknown option/);
});

test('memory and cpus parse as docker does', () => {
  assert.equal(parseMemory('512m'), 512 * 1024 * 1024);
  assert.equal(parseMemory('1g'), 1024 ** 3);
  assert.throws(() => parseMemory('1k'), /minimum memory/);
  assert.throws(() => parseMemory('lots'), /invalid memory/);
  assert.equal(parseCpus('1.5'), 1.5e9);
  assert.throws(() => parseCpus('-1'), /invalid --cpus/);
});

test('env: K=V kept, bare K copied from the caller, later entries win', () => {
  assert.deepEqual(parseEnv(['A=1', 'HOME', 'MISSING'], { HOME: '/root' }), ['A=1', 'HOME=/root']);
  assert.deepEqual(parseEnvFile('# comment\n\nA=1\r\n  B=two words\n'), ['A=1', 'B=two words']);
  assert.deepEqual(mergeEnv(['PATH=/bin', 'A=1'], ['A=2']), ['PATH=/bin', 'A=2']);
  assert.throws(() => parseEnv(['=x']), /invalid environment/);
});

test('signals by name, short name and number', () => {
  assert.equal(signalNumber('SIGTERM'), 15);
  assert.equal(signalNumber('kill'), 9);
  assert.equal(signalNumber('2'), 2);
  assert.throws(() => signalNumber('SIGNOPE'), /invalid signal/);
});
