import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags, type FlagSpec } from '../../../engine/src/cli/flags';
import { commandColumn, humanSize, table } from '../../../engine/src/cli/format';

const specs: FlagSpec[] = [
  { name: 'interactive', short: 'i', kind: 'bool', help: '' },
  { name: 'tty', short: 't', kind: 'bool', help: '' },
  { name: 'name', kind: 'string', help: '' },
  { name: 'env', short: 'e', kind: 'list', help: '' },
  { name: 'publish', short: 'p', kind: 'list', help: '' },
];

test('bundled shorts, = and space values, repeats; options stop at the image for run', () => {
  const p = parseFlags(specs, ['-it', '--name=web', '-e', 'A=1', '-eB=2', '-p8080:80', 'busybox', 'ls', '-la', '--name', 'x'], { stopAtPositional: true, command: 'run' });
  assert.deepEqual(p.flags, { interactive: true, tty: true, name: 'web', env: ['A=1', 'B=2'], publish: ['8080:80'] });
  assert.deepEqual(p.args, ['busybox', 'ls', '-la', '--name', 'x']);
});

test('unknown flags and missing values are one clear error', () => {
  assert.throws(() => parseFlags(specs, ['--nope'], { command: 'run' }), /unknown flag: --nope/);
  assert.throws(() => parseFlags(specs, ['-x'], { command: 'run' }), /unknown flag: -x/);
  assert.throws(() => parseFlags(specs, ['--name'], { command: 'run' }), /flag needs an argument: --name/);
});

test('tables, sizes and commands print as docker prints them', () => {
  assert.equal(table(['A', 'LONGER HEADER'], [['x', 'y']]), 'A         LONGER HEADER\nx         y\n');
  assert.equal(humanSize(4_260_000), '4.26MB');
  assert.equal(humanSize(1240), '1.24kB');
  assert.equal(humanSize(0), '0B');
  assert.equal(commandColumn('sh /app/hello.sh'), '"sh /app/hello.sh"');
  assert.equal(commandColumn('sh -c echo a very long command'), '"sh -c echo a very l…"');
});
