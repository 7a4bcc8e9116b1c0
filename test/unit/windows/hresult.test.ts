import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SiloError } from '../../../engine/src/errors';
import { formatHResult, hcsError, HcsError, isAlreadyStopped, isNotExist, isPending, normalizeHResult } from '../../../engine/src/platform/windows/hresult';

test('HCS codes in NTSTATUS form fold onto their HRESULT form', () => {
  assert.equal(normalizeHResult(0xc0370101 | 0), 0x80370101);
  assert.equal(normalizeHResult(-2143878911), 0x80370101);
  assert.equal(normalizeHResult(0x80070005), 0x80070005);
  assert.equal(formatHResult(-2143878911), '0x80370101');
});

test('image mismatch becomes one sentence that says what to do instead', () => {
  const err = hcsError('create container 4f2a', 0xc0370101 | 0);
  assert.ok(err instanceof SiloError && err instanceof HcsError);
  assert.equal(err.kind, 'FailedPrecondition');
  assert.equal(err.hr, 0x80370101);
  assert.equal(err.message, 'Could not create container 4f2a: The operating system of the container does not match the host (HCS_E_IMAGE_MISMATCH, 0x80370101)');
  assert.match(err.line, /--isolation hyperv/);
  assert.ok(!err.line.includes('\n'));
});

test('the result document supplies the events and, when the call said S_OK, the code', () => {
  const doc = JSON.stringify({ Error: -2143878898, ErrorMessage: 'A compute system with the given id was not found.', ErrorEvents: [{ Message: 'id c1' }] });
  const err = hcsError('stop container c1', 0, doc);
  assert.equal(err.kind, 'NotFound');
  assert.equal(err.hr, 0x8037010e);
  assert.deepEqual(err.events, ['A compute system with the given id was not found.', 'id c1']);
});

test('access denied, missing features and unknown codes', () => {
  assert.equal(hcsError('start', 0x8037011b | 0).kind, 'PermissionDenied');
  assert.equal(hcsError('load computecore.dll', 0x8007007e | 0).kind, 'Unavailable');
  const unknown = hcsError('start', 0x80371234 | 0, '{"ErrorMessage":"Something odd."}');
  assert.equal(unknown.kind, 'Internal');
  assert.equal(unknown.message, 'Could not start: Something odd (0x80371234)');
  assert.match(hcsError('open', 0x80070002 | 0).message, /Windows error 2/);
});

test('helpers say which failures mean done', () => {
  assert.ok(isPending(0x80370117 | 0) && isPending(0xc0370103 | 0));
  assert.ok(isNotExist(0xc037010e | 0) && isNotExist(0x80070490 | 0));
  assert.ok(isAlreadyStopped(0x80370110) && isAlreadyStopped(0x8037011f));
  assert.ok(!isAlreadyStopped(0x80370101));
});
