// Builds dist/: esbuild bundles (engine CLI, language server, VS Code client), the C monitor and front,
// and the ISA-L gunzip library.
// `node scripts/build.mjs [--watch]`. Type checks are separate: `npm run typecheck`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, 'dist');
mkdirSync(dist, { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // koffi carries native binaries; it is shipped as a package next to the bundles.
  external: ['koffi', 'vscode'],
};

const entries = [
  { in: 'engine/src/cli/main.ts', out: 'silo.js', banner: '#!/usr/bin/env node' },
  // The engine itself, loaded by `silo engine` only (cli/engineBundle.ts).
  { in: 'engine/src/rpc/listen.ts', out: 'silo-engine.js' },
  // The engine's layer worker thread (layers/layerWorker.ts): inflates, hashes and unpacks pulled layers.
  { in: 'engine/src/layers/layerWorker.ts', out: 'silo-layer-worker.js' },
  // conditions: [] resolves packages as Node does: vscode-languageserver-types would otherwise come in as
  // ESM behind getter re-exports, making the validator's hot paths ~25% slower (bench/language-server).
  // Windows: the one process per data root that holds every container's HCS handles (platform/windows/README.md).
  { in: 'engine/src/platform/windows/supervisor/main.ts', out: 'silo-hcs-supervisor.js' },
  { in: 'server/src/main.ts', out: 'server.js', options: { conditions: [] } },
  { in: 'client/src/extension.ts', out: 'client.js' },
];

for (const e of entries) {
  if (!existsSync(path.join(root, e.in))) continue;
  await build({ ...common, ...e.options, entryPoints: [path.join(root, e.in)], outfile: path.join(dist, e.out), banner: e.banner ? { js: e.banner } : undefined });
}

// Linux only: the per-container monitor (engine/monitor/silo-monitor.c), and the `silo` front
// (engine/front/silo-front.c) that relays a command line into the running engine.
if (process.platform === 'linux') {
  const programs = [
    { src: 'engine/monitor/silo-monitor.c', out: 'silo-monitor', what: 'the container monitor' },
    { src: 'engine/front/silo-front.c', out: 'silo', what: 'the silo front' },
  ];
  for (const p of programs) {
    const src = path.join(root, p.src);
    const out = path.join(dist, p.out);
    const what = p.what;
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
      const cc = process.env.CC || 'cc';
      try {
        execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-o', out, src], { stdio: 'inherit' });
      } catch {
        console.error(`silo: cannot compile ${what} with ${cc}: install a C compiler (apt-get install gcc)`);
        process.exit(1);
      }
    }
  }
  // ISA-L's gzip inflation for pulls (engine/gunzip/silo-gunzip.c), when its header is installed
  // (Debian: libisal-dev); without it the engine inflates with zlib, slower but the same.
  const gunzipSrc = path.join(root, 'engine/gunzip/silo-gunzip.c');
  const gunzipOut = path.join(dist, 'libsilo-gunzip.so');
  if (!existsSync(gunzipOut) || statSync(gunzipOut).mtimeMs < statSync(gunzipSrc).mtimeMs) {
    const cc = process.env.CC || 'cc';
    try {
      execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-shared', '-fPIC', '-o', gunzipOut, gunzipSrc, '-l:libisal.so.2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch {
      console.error('silo: ISA-L (libisal-dev) is not installed: pulls inflate layers with zlib, which is slower');
    }
  }
}
