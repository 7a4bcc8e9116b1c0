// overlayChanges on a container that changed 10 files over a 50,000-file image layer. Its cost must
// follow the changes, not the image: target < 50 ms. The peer is the naive diff (walk the whole image
// and the upper dir, lstat everything), which is what a snapshotter without overlay support does.
import fs from 'node:fs';
import path from 'node:path';
import { overlayChanges } from '../engine/src/layers/changes';
import { linuxSpecialFiles } from '../engine/src/platform/linux/libc';

const FILES = 50_000;
const RUNS = 9;

function naiveWalk(root: string): number {
  let n = 0;
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir)) {
      const st = fs.lstatSync(path.join(dir, name));
      n++;
      if (st.isDirectory()) walk(path.join(dir, name));
    }
  };
  walk(root);
  return n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join('/var/tmp', 'silo-bench-diff-'));
  try {
    const lower = path.join(work, 'lower');
    const upper = path.join(work, 'upper');
    for (let i = 0; i < FILES; i++) {
      const dir = path.join(lower, `usr/share/d${i % 500}`);
      if (i < 500) fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `f${i}`), '');
    }
    // Ten changes as overlayfs leaves them in the upper dir: copied-up parents, new files, a whiteout.
    for (let i = 0; i < 8; i++) {
      const dir = path.join(upper, `usr/share/d${i * 7}`);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, i % 2 ? `f${i * 7}` : `new${i}`), 'changed');
    }
    fs.mkdirSync(path.join(upper, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(upper, 'etc/app.conf'), 'new');
    linuxSpecialFiles.mknod(path.join(upper, 'usr/share/d0/f500'), 0o020000, 0, 0);

    const silo: number[] = [];
    const naive: number[] = [];
    let changes = 0;
    for (let run = 0; run < RUNS; run++) {
      let t0 = process.hrtime.bigint();
      changes = (await overlayChanges(upper, [lower], linuxSpecialFiles)).length;
      silo.push(Number(process.hrtime.bigint() - t0) / 1e6);
      t0 = process.hrtime.bigint();
      naiveWalk(lower);
      naiveWalk(upper);
      naive.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const s = median(silo);
    const p = median(naive);
    process.stderr.write(`${changes} changes over ${FILES} lower files; overlayChanges ${s.toFixed(2)} ms, naive walk ${p.toFixed(1)} ms (medians of ${RUNS})\n`);
    process.stdout.write(JSON.stringify({
      bench: 'diff', unit: 'ms', silo: Math.round(s * 100) / 100, peer: 'naive full-tree diff', peerValue: Math.round(p * 10) / 10,
      ratio: Math.round((p / s) * 10) / 10, target: '< 50 ms', pass: s < 50,
    }) + '\n');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => { process.stderr.write(`${(err as Error).stack ?? err}\n`); process.exit(1); });
