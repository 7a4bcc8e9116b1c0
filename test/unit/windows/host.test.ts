import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SiloError } from '../../../engine/src/errors';
import { assertCanRunOnThisHost, assertImageRunsOnHost } from '../../../engine/src/platform/windows/host';

function line(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SiloError);
    assert.ok(!err.line.includes('\n'));
    return `${err.kind}: ${err.line}`;
  }
  return 'ok';
}

test('a Linux host refuses Windows containers and Hyper-V isolation at once', () => {
  assert.equal(
    line(() => assertCanRunOnThisHost('windows', 'process', 'linux')),
    'NotImplemented: Windows containers need a Windows host, and this one is linux: pull and inspect Windows images here; run them on Windows 10 1809 / Server 2019 or later',
  );
  assert.equal(line(() => assertCanRunOnThisHost('linux', 'hyperv', 'linux')), 'InvalidArgument: --isolation hyperv needs a Windows host, and this one is linux: leave out --isolation on Linux');
  assert.equal(line(() => assertCanRunOnThisHost('linux', 'process', 'linux')), 'ok');
});

test('a Windows host runs Windows containers in both isolations, not Linux ones', () => {
  assert.equal(line(() => assertCanRunOnThisHost('windows', 'process', 'win32')), 'ok');
  assert.equal(line(() => assertCanRunOnThisHost('windows', 'hyperv', 'win32')), 'ok');
  assert.match(line(() => assertCanRunOnThisHost('linux', 'process', 'win32')), /^NotImplemented: Linux containers cannot run on this Windows host/);
});

test('the image build is checked against the host before create, with what would work', () => {
  assert.equal(line(() => assertImageRunsOnHost(20348, '10.0.20348.2655', 'process')), 'ok');
  assert.equal(line(() => assertImageRunsOnHost(20348, undefined, 'process')), 'ok');
  assert.equal(line(() => assertImageRunsOnHost(26100, '10.0.17763.6189', 'hyperv')), 'ok');
  const l = line(() => assertImageRunsOnHost(20348, '10.0.17763.6189', 'process'));
  assert.match(l, /^FailedPrecondition: The image is Windows build 17763 \(ltsc2019\)/);
  assert.match(l, /--isolation hyperv/);
  assert.match(l, /nanoserver:ltsc2022$/);
  assert.match(line(() => assertImageRunsOnHost(17763, 'ten', 'process')), /^InvalidArgument/);
});
