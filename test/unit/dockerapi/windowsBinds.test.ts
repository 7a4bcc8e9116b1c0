// Windows bind specs, checked against moby's own table (volume/mounts/windows_parser_test.go,
// TestWindowsParseMountRaw and TestWindowsParseMountRawSplit). Cases that depend on moby's fake file
// system (`c:\notexist`, `...\ntdll.dll`) are the host's question in Silo (the service checks that a
// bind source exists), so they are not parser cases here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SiloError } from '../../../engine/src/errors';
import { parseWindowsBind } from '../../../engine/src/dockerapi/windowsBinds';

const VALID = [
  'd:\\',
  'd:',
  'd:\\path',
  'd:\\path with space',
  'c:\\:d:\\',
  'c:\\windows\\:d:',
  'c:\\windows:d:\\s p a c e',
  'c:\\windows:d:\\s p a c e:RW',
  'c:\\program files:d:\\s p a c e i n h o s t d i r',
  '0123456789name:d:',
  'MiXeDcAsEnAmE:d:',
  'test-aux-volume:d:',
  'name:D:',
  'name:D::rW',
  'name:D::RW',
  'name:D::RO',
  'c:/:d:/forward/slashes/are/good/too',
  'c:/:d:/including with/spaces:ro',
  'c:\\Windows',
  'c:\\Program Files (x86)',
  '\\\\?\\c:\\windows\\:d:',
  'c:\\windows\\:\\\\?\\d:\\',
  '\\\\.\\pipe\\foo:\\\\.\\pipe\\foo',
  '//./pipe/foo://./pipe/foo',
];

const INVALID: Record<string, RegExp> = {
  '': /invalid volume specification: ''/,
  '.': /invalid volume specification/,
  '..\\': /invalid volume specification/,
  'c:\\:..\\': /invalid volume specification/,
  'c:\\:d:\\:xyzzy': /invalid volume specification/,
  'c:': /cannot be `c:`/,
  'c:\\': /cannot be `c:`/,
  'name<:d:': /invalid volume specification/,
  'name>:d:': /invalid volume specification/,
  'name::d:': /invalid volume specification/,
  'name":d:': /invalid volume specification/,
  'name\\:d:': /invalid volume specification/,
  'name*:d:': /invalid volume specification/,
  'name|:d:': /invalid volume specification/,
  'name?:d:': /invalid volume specification/,
  'name/:d:': /invalid volume specification/,
  'd:\\pathandmode:rw': /invalid volume specification/,
  'd:\\pathandmode:ro': /invalid volume specification/,
  'con:d:': /cannot be a reserved word for Windows filenames/,
  'PRN:d:': /cannot be a reserved word for Windows filenames/,
  'aUx:d:': /cannot be a reserved word for Windows filenames/,
  'nul:d:': /cannot be a reserved word for Windows filenames/,
  ...Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((i) => [[`com${i}:d:`, /reserved word/], [`lpt${i}:d:`, /reserved word/]])),
  '\\\\.\\pipe\\foo:c:\\pipe': /'c:\\pipe' is not a valid pipe path/,
};

test("every spec moby's Windows parser accepts is accepted", () => {
  for (const spec of VALID) assert.doesNotThrow(() => parseWindowsBind(spec), spec);
});

test("every spec moby's Windows parser refuses is refused, with moby's reason", () => {
  for (const [spec, why] of Object.entries(INVALID)) {
    assert.throws(() => parseWindowsBind(spec), (e: SiloError) => e instanceof SiloError && e.kind === 'InvalidArgument' && why.test(e.message), spec);
  }
});

test("the split: type, source, target and read-only as moby's TestWindowsParseMountRawSplit", () => {
  const cases: Array<[string, ReturnType<typeof parseWindowsBind> | 'fail']> = [
    ['c:\\:d:', { type: 'bind', source: 'c:\\', target: 'd:', readonly: false }],
    ['c:\\:d:\\', { type: 'bind', source: 'c:\\', target: 'd:\\', readonly: false }],
    ['c:\\:d:\\:ro', { type: 'bind', source: 'c:\\', target: 'd:\\', readonly: true }],
    ['c:\\:d:\\:rw', { type: 'bind', source: 'c:\\', target: 'd:\\', readonly: false }],
    ['c:\\:d:\\:foo', 'fail'],
    ['name:d::rw', { type: 'volume', source: 'name', target: 'd:', readonly: false }],
    ['name:d:', { type: 'volume', source: 'name', target: 'd:', readonly: false }],
    ['name:d::ro', { type: 'volume', source: 'name', target: 'd:', readonly: true }],
    ['name:c:', 'fail'],
    ['driver/name:c:', 'fail'],
    ['\\\\.\\pipe\\foo:\\\\.\\pipe\\bar', { type: 'npipe', source: '\\\\.\\pipe\\foo', target: '\\\\.\\pipe\\bar', readonly: false }],
    ['\\\\.\\pipe\\foo:c:\\foo\\bar', 'fail'],
    ['c:\\foo\\bar:\\\\.\\pipe\\foo', 'fail'],
  ];
  for (const [spec, want] of cases) {
    if (want === 'fail') assert.throws(() => parseWindowsBind(spec), SiloError, spec);
    else assert.deepEqual(parseWindowsBind(spec), want, spec);
  }
});

test('what users write: case kept, forward slashes turned, trailing backslash dropped, pipes not read-only', () => {
  assert.deepEqual(parseWindowsBind('C:\\host\\dir:C:\\app'), { type: 'bind', source: 'C:\\host\\dir', target: 'C:\\app', readonly: false });
  assert.deepEqual(parseWindowsBind('c:\\x:c:\\y:ro'), { type: 'bind', source: 'c:\\x', target: 'c:\\y', readonly: true });
  assert.deepEqual(parseWindowsBind('C:/Users/Me/src/:C:/src/'), { type: 'bind', source: 'C:\\Users\\Me\\src', target: 'C:\\src', readonly: false });
  assert.deepEqual(parseWindowsBind('\\\\.\\pipe\\docker_engine:\\\\.\\pipe\\docker_engine'), {
    type: 'npipe', source: '\\\\.\\pipe\\docker_engine', target: '\\\\.\\pipe\\docker_engine', readonly: false,
  });
  assert.throws(() => parseWindowsBind('\\\\.\\pipe\\x:\\\\.\\pipe\\x:ro'), /named pipe cannot be mounted read-only/);
  assert.deepEqual(parseWindowsBind('C:\\data'), { type: 'volume', source: '', target: 'C:\\data', readonly: false });
  // A Linux-style spec means nothing to a Windows container.
  assert.throws(() => parseWindowsBind('/host:/app'), /invalid volume specification: '\/host:\/app'/);
});

test('a long bad spec is refused at once (no catastrophic backtracking)', () => {
  const t = Date.now();
  assert.throws(() => parseWindowsBind(`c:\\${'a\\'.repeat(5000)}a b*:d:`));
  assert.throws(() => parseWindowsBind(`c:\\${'a'.repeat(20000)}?:d:`));
  assert.ok(Date.now() - t < 1000);
});
