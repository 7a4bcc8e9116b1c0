// Runs the test suites with node:test through tsx (TypeScript without a shared build output, so
// several suites may run at once). `node scripts/test.mjs [unit|integration|e2e] [filter]`.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const suites = process.argv[2] ? [process.argv[2]] : ['unit', 'integration', 'e2e'];
const filter = process.argv[3];

function find(dir) {
  let out = [];
  let names;
  try { names = readdirSync(dir); } catch { return out; }
  for (const name of names.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

let failed = false;
for (const suite of suites) {
  const files = find(join(root, 'test', suite)).filter((f) => !filter || f.includes(filter));
  if (files.length === 0) continue;
  console.log(`# suite: ${suite} (${files.length} files)`);
  // Integration suites share one machine's crun state and ports: run their files one at a time.
  const concurrency = suite === 'unit' ? [] : ['--test-concurrency=1'];
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...concurrency, ...files.map((f) => relative(root, f))], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
