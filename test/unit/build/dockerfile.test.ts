import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../../../engine/src/build/dockerfile';
import { expandVariables } from '../../../engine/src/build/expand';
import { checkWindowsDest, defaultShell } from '../../../engine/src/build/windowsRules';
import { segmentMatcher } from '../../../engine/src/build/context';

test('stages, global ARGs, flags and heredocs come out with their lines', () => {
  const df = parseDockerfile('ARG V=1\nFROM busybox AS b\nCOPY --from=b --chown=1:2 a /c/\nRUN <<EOF\necho hi\nEOF\n');
  assert.equal(df.globalArgs.length, 1);
  assert.equal(df.stages[0].name, 'b');
  const [copy, run] = df.stages[0].instructions;
  assert.deepEqual(copy.flags, { from: 'b', chown: '1:2' });
  assert.equal(copy.line, 2);
  assert.deepEqual(run.heredocs, [{ name: 'EOF', content: 'echo hi\n' }]);
});

test('unknown instructions and instructions before FROM name their line', () => {
  assert.throws(() => parseDockerfile('FROM a\nRUNN x\n'), /Dockerfile:2: unknown instruction: RUNN/);
  assert.throws(() => parseDockerfile('RUN x\nFROM a\n'), /Dockerfile:1: no build stage/);
});

test('variables expand as the classic builder expands them, and report what they read', () => {
  const vars: Record<string, string> = { A: 'x', E: '' };
  const e = expandVariables("$A ${B:-d} ${E:-e} ${A:+alt} '$A' \\$A", (n) => vars[n]);
  assert.equal(e.value, "x d e alt '$A' $A");
  assert.deepEqual([...e.used].sort(), ['A', 'B', 'E']);
});

test('Windows rules: cmd /S /C, destinations on C:', () => {
  assert.deepEqual(defaultShell('windows'), ['cmd', '/S', '/C']);
  assert.equal(checkWindowsDest('/app', undefined), 'C:\\app');
  assert.throws(() => checkWindowsDest('D:\\app', undefined), /not on the system drive/);
  assert.throws(() => checkWindowsDest('app', 'D:\\work'), /WORKDIR is not on the system drive/);
});

test('wildcards match one path segment like Go filepath.Match', () => {
  assert.ok(segmentMatcher('*.txt').test('a.txt'));
  assert.ok(!segmentMatcher('*.txt').test('a.md'));
  assert.ok(segmentMatcher('[ab]?.js').test('bx.js'));
});
