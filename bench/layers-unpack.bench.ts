// Unpacks a generated ~500 MB uncompressed layer (about 20k files of mixed sizes, dirs, symlinks,
// hardlinks) with extractLayer and with GNU tar, on the same disk, alternating runs; reports the median
// throughput of each. Target (engine.md §1.5): at least 0.7x GNU tar's speed.
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extractLayer } from '../engine/src/layers/extract';
import { linuxSpecialFiles } from '../engine/src/platform/linux/libc';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** A deterministic pseudo-random generator (xorshift32), so every run builds the same layer. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

function makeTree(dir: string): { files: number; bytes: number } {
  const rand = rng(42);
  const noise = Buffer.alloc(4 << 20);
  for (let i = 0; i < noise.length; i += 4) noise.writeUInt32LE((rand() * 0x100000000) >>> 0, i);
  // Size classes close to an OS layer: many small files, some medium, few large (about 500 MB total).
  const classes: [number, number, number][] = [[14000, 0, 8 << 10], [5000, 8 << 10, 56 << 10], [900, 64 << 10, 336 << 10], [100, 512 << 10, 1536 << 10]];
  let files = 0;
  let bytes = 0;
  const dirs: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const d = path.join(dir, `d${i % 40}`, `sub${i}`);
    fs.mkdirSync(d, { recursive: true });
    dirs.push(d);
  }
  for (const [count, min, max] of classes) {
    for (let i = 0; i < count; i++) {
      const size = Math.floor(min + rand() * (max - min));
      const off = Math.floor(rand() * (noise.length - size));
      const file = path.join(dirs[Math.floor(rand() * dirs.length)], `f${files}.bin`);
      fs.writeFileSync(file, noise.subarray(off, off + size), { mode: rand() < 0.1 ? 0o755 : 0o644 });
      files++;
      bytes += size;
      if (files % 40 === 0) fs.symlinkSync(`f${files - 1}.bin`, file + '.link');
    }
  }
  return { files, bytes };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join('/var/tmp', 'silo-bench-unpack-'));
  try {
    const src = path.join(work, 'src');
    const { files, bytes } = makeTree(src);
    const layer = path.join(work, 'layer.tar');
    execFileSync('tar', ['-cf', layer, '-C', src, '.']);
    fs.rmSync(src, { recursive: true });
    const tarSize = fs.statSync(layer).size;
    process.stderr.write(`layer: ${files} files, ${(bytes / 1e6).toFixed(0)} MB of contents, tar ${(tarSize / 1e6).toFixed(0)} MB\n`);
    // Warm the page cache for the input so both readers see the same thing.
    execFileSync('cat', [layer], { stdio: ['ignore', 'ignore', 'inherit'] });

    const silo: number[] = [];
    const gnu: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      for (const who of run % 2 === 0 ? ['silo', 'tar'] : ['tar', 'silo']) {
        const out = path.join(work, `out-${who}-${run}`);
        fs.mkdirSync(out);
        execFileSync('sync');
        const t0 = process.hrtime.bigint();
        if (who === 'tar') {
          execFileSync('tar', ['-xf', layer, '-C', out]);
        } else {
          await extractLayer(createReadStream(layer, { highWaterMark: 1 << 20 }), out, { special: linuxSpecialFiles, whiteouts: 'overlay' });
        }
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        (who === 'tar' ? gnu : silo).push(ms);
        process.stderr.write(`run ${run} ${who}: ${ms.toFixed(0)} ms (${(tarSize / 1e3 / ms).toFixed(0)} MB/s)\n`);
        fs.rmSync(out, { recursive: true });
      }
    }
    const siloMBs = tarSize / 1e3 / median(silo);
    const tarMBs = tarSize / 1e3 / median(gnu);
    const ratio = siloMBs / tarMBs;
    process.stdout.write(JSON.stringify({
      bench: 'layers-unpack', unit: 'MB/s', silo: Math.round(siloMBs), peer: 'GNU tar', peerValue: Math.round(tarMBs),
      ratio: Math.round(ratio * 100) / 100, target: '>= 0.7x GNU tar', pass: ratio >= 0.7,
    }) + '\n');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => { process.stderr.write(`${(err as Error).stack ?? err}\n`); process.exit(1); });
