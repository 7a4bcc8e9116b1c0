// Runs every bench/*.bench.ts (or those matching argv[2]) one after another — they measure side by
// side with a peer in one run — collects the JSON line each prints, and writes a markdown table to
// stdout and bench/results/results.md.
import { readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const filter = process.argv[2];
const files = readdirSync(path.join(root, 'bench')).filter((f) => f.endsWith('.bench.ts') && (!filter || f.includes(filter))).sort();
spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit' });

const rows = [];
for (const f of files) {
  process.stderr.write(`# ${f}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join('bench', f)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], timeout: 15 * 60_000 });
  const lines = r.stdout.toString().split('\n').filter((l) => l.startsWith('{'));
  if (!lines.length) rows.push({ bench: f, error: `no result (exit ${r.status})` });
  for (const l of lines) rows.push(JSON.parse(l));
}

const fmt = (n) => (typeof n === 'number' ? (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2)) : n ?? '');
const table = [
  '| benchmark | Silo | peer | peer value | ratio | target | pass |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) =>
    r.error
      ? `| ${r.bench} | ${r.error} | | | | | no |`
      : `| ${r.bench} | ${fmt(r.silo)} ${r.unit} | ${r.peer} | ${fmt(r.peerValue)} ${r.unit} | ${fmt(r.ratio)} | ${r.target} | ${r.pass ? 'yes' : 'no'} |`,
  ),
].join('\n');
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(path.join(root, 'bench/results/results.md'), `# Benchmarks (${new Date().toISOString()})\n\n${table}\n`);
console.log(table);
