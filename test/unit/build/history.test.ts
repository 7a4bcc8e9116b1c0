// History lines as Docker's classic builder prints them, and the Windows WORKDIR rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goDuration, goHealthcheck, goQuoteList, layerHistory, metadataHistory } from '../../../engine/src/build/history';
import { parseDockerfile } from '../../../engine/src/build/dockerfile';
import { windowsWorkdir } from '../../../engine/src/build/windowsRules';

test('lists print as Go %q prints a []string', () => {
  assert.equal(goQuoteList(['sh', '-c', 'echo "hi" \\ there']), '["sh" "-c" "echo \\"hi\\" \\\\ there"]');
  assert.equal(goQuoteList(['tab\there', 'bell\x07']), '["tab\\there" "bell\\a"]');
  assert.equal(goQuoteList(null), '[]');
});

test('durations print as Go time.Duration prints them', () => {
  assert.deepEqual([0, 5e9, 90e9, 3600e9, 1.5e9, 250e6].map(goDuration), ['0s', '5s', '1m30s', '1h0m0s', '1.5s', '250ms']);
});

test('HEALTHCHECK prints as Docker 20.10 writes it in history', () => {
  assert.equal(goHealthcheck({ Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 2 }), `&{["CMD-SHELL" "true"] "5s" "0s" "0s" '\\x02'}`);
});

test('a metadata step has two spaces after #(nop), a layer step one; both start with the SHELL', () => {
  assert.equal(metadataHistory(['/bin/sh', '-c'], 'ENV A=1'), '/bin/sh -c #(nop)  ENV A=1');
  assert.equal(layerHistory(['cmd', '/S', '/C'], 'WORKDIR C:\\app'), 'cmd /S /C #(nop) WORKDIR C:\\app');
});

test('HEALTHCHECK keeps its options through parsing', () => {
  const ins = parseDockerfile('FROM x\nHEALTHCHECK --interval=5s --retries=2 CMD true\n', 'Dockerfile').stages[0].instructions[0];
  assert.equal(ins.args, '--interval=5s --retries=2 CMD true');
});

test('WORKDIR on a Windows image is always C:\\... (moby normalizeWorkdirWindows)', () => {
  const cases: Array<[string | undefined, string, string]> = [
    [undefined, 'a', 'C:\\a'],
    [undefined, 'c:\\foo', 'C:\\foo'],
    [undefined, '\\foo', 'C:\\foo'],
    [undefined, '/foo', 'C:\\foo'],
    ['C:\\foo', 'bar', 'C:\\foo\\bar'],
    ['C:\\foo', '\\bar', 'C:\\bar'],
    ['C:\\foo', 'c:/bar', 'C:\\bar'],
  ];
  for (const [cur, req, want] of cases) assert.equal(windowsWorkdir(cur, req), want, `${cur} + ${req}`);
  assert.throws(() => windowsWorkdir(undefined, 'C:'), /WORKDIR C: is not supported/);
});
