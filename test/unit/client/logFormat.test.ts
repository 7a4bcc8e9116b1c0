import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogBuffer, formatLogLine } from '../../../client/src/model/logFormat';

test('stderr lines are marked apart from stdout, timestamps only on demand', () => {
  const out = { stream: 'stdout' as const, log: 'ready\n', time: '2026-11-24T01:02:03.000000004Z', cursor: 'c1' };
  const err = { stream: 'stderr' as const, log: 'oops\r\n', time: '2026-11-24T01:02:04Z', cursor: 'c2' };
  assert.equal(formatLogLine(out, { timestamps: false }), 'out│ ready\n');
  assert.equal(formatLogLine(err, { timestamps: false }), 'err│ oops\n');
  assert.equal(formatLogLine(out, { timestamps: true }), '2026-11-24T01:02:03.000000004Z out│ ready\n');
});

test('the buffer keeps every line and the cursor to resume after the last one', () => {
  const b = new LogBuffer();
  b.append([{ stream: 'stdout', log: 'a\n', time: 't', cursor: '1' }]);
  b.append([{ stream: 'stdout', log: 'b', time: 't', cursor: '2' }]);
  assert.equal(b.render({ timestamps: false }), 'out│ a\nout│ b\n');
  assert.equal(b.cursor, '2');
  assert.equal(b.length, 2);
});
