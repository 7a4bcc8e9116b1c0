// The Dockerfile corpus (test/fixtures/dockerfiles): sound Windows files in the styles of the
// official .NET, Server Core and Nano Server images get no Silo diagnostic; each faulty file gets
// exactly the diagnostics its sidecar expected.json lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkDockerfile } from '../../../server/src/rules/index';
import type { HostFacts } from '../../../server/src/protocol';

const root = join(__dirname, '..', '..', 'fixtures', 'dockerfiles');

interface Expected {
  code: string;
  line: number;
}
type Entry = Expected[] | { host?: HostFacts; expected: Expected[] };
const sidecar = JSON.parse(readFileSync(join(root, 'expected.json'), 'utf8')) as { soundHost: HostFacts; files: Record<string, Entry> };

function found(text: string, host?: HostFacts): Expected[] {
  return checkDockerfile(text, { host }).findings.map((f) => ({ code: f.code, line: f.range.start.line + 1 }));
}

const byPosition = (a: Expected, b: Expected) => a.line - b.line || a.code.localeCompare(b.code);

for (const name of readdirSync(join(root, 'sound')).sort()) {
  test(`sound: ${name} has no Silo diagnostics`, () => {
    const text = readFileSync(join(root, 'sound', name), 'utf8');
    assert.deepEqual(found(text), []);
    if (!name.startsWith('linux')) assert.deepEqual(found(text, sidecar.soundHost), [], 'on a matching Windows Server 2022 host');
  });
}

test('every faulty file is listed in expected.json', () => {
  const listed = Object.keys(sidecar.files).sort();
  const present = readdirSync(join(root, 'faulty')).map((n) => `faulty/${n}`).sort();
  assert.deepEqual(present, listed);
});

for (const [file, entry] of Object.entries(sidecar.files)) {
  test(`faulty: ${file}`, () => {
    const { host, expected } = Array.isArray(entry) ? { host: undefined, expected: entry } : entry;
    const text = readFileSync(join(root, file), 'utf8');
    assert.deepEqual(found(text, host).sort(byPosition), [...expected].sort(byPosition));
  });
}
