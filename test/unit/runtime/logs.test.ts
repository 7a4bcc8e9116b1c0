import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseTimeBound, readLog, type LogLine } from '../../../engine/src/runtime/logs';

const line = (log: string, stream = 'stdout', time = '2026-01-01T00:00:00.000000000Z') => JSON.stringify({ log, stream, time }) + '\n';

async function collect(gen: AsyncGenerator<LogLine>): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const l of gen) out.push(l);
  return out;
}

test('reads rotated files oldest first, with tail and since', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'silo-log-'));
  const f = path.join(dir, 'container.log');
  writeFileSync(f + '.2', line('a\n', 'stdout', '2026-01-01T00:00:01.000000000Z'));
  writeFileSync(f + '.1', line('b\n', 'stderr', '2026-01-01T00:00:02.000000000Z'));
  writeFileSync(f, line('c\n', 'stdout', '2026-01-01T00:00:03.000000000Z') + '{"log":"partial');
  assert.deepEqual((await collect(readLog(f))).map((l) => l.log), ['a\n', 'b\n', 'c\n'], 'a partial last line is not shown');
  assert.deepEqual((await collect(readLog(f, { tail: 2 }))).map((l) => l.log), ['b\n', 'c\n']);
  assert.deepEqual((await collect(readLog(f, { tail: 0 }))).length, 0);
  assert.deepEqual((await collect(readLog(f, { since: '2026-01-01T00:00:02Z' }))).map((l) => l.stream), ['stderr', 'stdout']);
});

test('follow sees new lines and a rotation without losing or repeating a line, and resumes from a cursor', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'silo-log-'));
  const f = path.join(dir, 'container.log');
  writeFileSync(f, line('1\n'));
  let done = false;
  const seen: string[] = [];
  const reader = (async () => {
    for await (const l of readLog(f, { follow: true, done: async () => done })) seen.push(l.log);
  })();
  await new Promise((r) => setTimeout(r, 50));
  appendFileSync(f, line('2\n'));
  await new Promise((r) => setTimeout(r, 50));
  appendFileSync(f, line('3\n'));
  renameSync(f, f + '.1'); // the monitor's rotation
  writeFileSync(f, line('4\n'));
  await new Promise((r) => setTimeout(r, 50));
  appendFileSync(f, line('5\n'));
  done = true;
  await reader;
  assert.deepEqual(seen, ['1\n', '2\n', '3\n', '4\n', '5\n']);

  const all = await collect(readLog(f));
  const resumed = await collect(readLog(f, { cursor: all[2].cursor }));
  assert.deepEqual(resumed.map((l) => l.log), ['4\n', '5\n']);
});

test('time bounds: RFC 3339, Unix seconds and durations', () => {
  assert.equal(parseTimeBound('1700000000'), 1700000000000);
  assert.equal(parseTimeBound('2026-01-01T00:00:00Z'), Date.UTC(2026, 0, 1));
  assert.equal(parseTimeBound('10m', 1_000_000), 1_000_000 - 600_000);
  assert.throws(() => parseTimeBound('yesterday'), /invalid time/);
});
