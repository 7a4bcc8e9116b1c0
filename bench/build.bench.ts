// `silo build`, side by side in one run, over the same busybox rootfs imported into each builder:
// - a fully cached rebuild of a 12-step Dockerfile (FROM, ENV, 10 RUN) vs podman build and buildah bud
//   (target: at least 5x faster, the issue's), and vs `docker build` with the classic builder through a
//   private dockerd (reference);
// - the same build cold (--no-cache), against the same peers (reference);
// - the per-RUN overhead of a cold build over a bare `crun run` of the same command (target: < 50 ms):
//   (cold build with 10 RUN - the same build with none) / 10, minus the median crun run.
// All through each tool's CLI, so every side pays one process start per build. Medians of RUNS.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as P from '../engine/src/protocol';
import { detectCgroupMode } from '../engine/src/platform/linux/host';
import { connectEngine } from '../engine/src/rpc/connect';
import { DOCKER_CLIENT, startDockerd, type PrivateDockerd } from '../test/fixtures/fixtureDockerd';
import { SiloFixture, hasTool, repoRoot } from '../test/fixtures/fixtureSilo';
import { median, ms, emit } from './measure';

const RUNS = 5;
const STEPS = 10;
/** SILO_BENCH_BUILD=per-run measures the per-RUN overhead alone (no peers): for iterating on it. */
const PER_RUN_ONLY = process.env.SILO_BENCH_BUILD === 'per-run';

/** crun refuses hybrid cgroup hosts; Silo's monitor hides the unified mount, and so does this peer. */
function crunArgs(args: string[]): [string, string[]] {
  if (detectCgroupMode() !== 'hybrid') return ['crun', args];
  return ['unshare', ['-m', 'sh', '-c', `umount /sys/fs/cgroup/unified; exec crun ${args.map((a) => `'${a}'`).join(' ')}`]];
}

function dockerfile(base: string, runs: number): string {
  const lines = [`FROM ${base}`, 'ENV BENCH=1'];
  for (let i = 1; i <= runs; i++) lines.push(`RUN echo ${i} > /f${i}`);
  return `${lines.join('\n')}\n`;
}

function context(base: string, runs: number): string {
  const dir = mkdtempSync('/tmp/silo-bench-build-');
  writeFileSync(path.join(dir, 'Dockerfile'), dockerfile(base, runs));
  return dir;
}

/** Times `build` RUNS times after one warm-up; `build` throws on failure. */
function timed(build: () => void, warm = true): number {
  if (warm) build();
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    build();
    xs.push(ms(t));
  }
  return median(xs);
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): void {
  const r = spawnSync(cmd, args, { env: env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 6).join(' ')} failed: ${r.stderr.toString().slice(-400)}`);
}

interface Peer {
  name: string;
  build(ctx: string, noCache: boolean): void;
}

async function main() {
  const rootfs = execFileSync('bash', [path.join(repoRoot, 'scripts/make-busybox-rootfs.sh')], { maxBuffer: 64 * 1024 * 1024 });
  const silo = new SiloFixture();
  let dockerd: PrivateDockerd | undefined;
  const temp = mkdtempSync('/tmp/silo-bench-peers-');
  try {
    silo.ok(['import', '-', 'busybox:latest'], { input: rootfs });
    const siloBuild = (ctx: string, noCache: boolean) => silo.ok(['build', '-q', ...(noCache ? ['--no-cache'] : []), '-t', 'bench', ctx], { timeoutMs: 300_000 });
    const peers: Peer[] = [];
    if (!PER_RUN_ONLY) {
      if (hasTool('podman')) {
        // Private storage (vfs), the rootfs imported locally; Debian's podman 4.3 needs runc and these
        // rlimits here (reference/engine.md §1.2).
        const p = ['--root', path.join(temp, 'podman/root'), '--runroot', path.join(temp, 'podman/run'), '--storage-driver', 'vfs'];
        execFileSync('podman', [...p, 'import', '-', 'localhost/busybox'], { input: rootfs, stdio: ['pipe', 'ignore', 'inherit'] });
        peers.push({
          name: 'podman build --layers (4.3, vfs)',
          build: (ctx, noCache) => run('podman', [...p, '--runtime', 'runc', 'build', '--layers', ...(noCache ? ['--no-cache'] : []), '--network', 'none', '--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=1000:1000', '-t', 'bench', ctx]),
        });
      } else process.stderr.write('podman is not installed: its comparison is skipped\n');
      if (hasTool('buildah')) {
        const b = ['--root', path.join(temp, 'buildah/root'), '--runroot', path.join(temp, 'buildah/run'), '--storage-driver', 'vfs'];
        const env = { ...process.env, BUILDAH_ISOLATION: 'chroot', STORAGE_DRIVER: 'vfs' };
        // buildah has no import: the same rootfs as a one-layer docker-archive, from Silo's `save`.
        const archive = path.join(temp, 'busybox.tar');
        writeFileSync(archive, spawnSync(process.execPath, [path.join(repoRoot, 'dist/silo.js'), '--root', silo.root, 'save', 'busybox'], { maxBuffer: 64 * 1024 * 1024 }).stdout);
        const id = execFileSync('buildah', [...b, 'pull', '-q', `docker-archive:${archive}`], { env }).toString().trim().split('\n').pop()!;
        run('buildah', [...b, 'tag', id, 'localhost/busybox'], env);
        peers.push({ name: 'buildah bud --layers (1.28, chroot, vfs)', build: (ctx, noCache) => run('buildah', [...b, 'bud', '--layers', ...(noCache ? ['--no-cache'] : []), '-t', 'bench', ctx], env) });
      } else process.stderr.write('buildah is not installed: its comparison is skipped\n');
      try {
        dockerd = await startDockerd();
        execFileSync(DOCKER_CLIENT, ['import', '-', 'localhost/busybox'], { input: rootfs, env: dockerd.env, stdio: ['pipe', 'ignore', 'inherit'] });
        const env = { ...dockerd.env, DOCKER_BUILDKIT: '0' };
        peers.push({ name: 'docker build (20.10, classic builder)', build: (ctx, noCache) => run(DOCKER_CLIENT, ['build', '-q', ...(noCache ? ['--no-cache'] : []), '--network', 'none', '-t', 'bench', ctx], env) });
      } catch (err) {
        process.stderr.write(`no private dockerd (${(err as Error).message.split('\n')[0]}): docker is skipped\n`);
      }
    }

    // Silo and podman/buildah/docker name the base differently; the Dockerfiles are otherwise the same.
    const siloCtx = context('busybox', STEPS);
    const peerCtx = context('localhost/busybox', STEPS);

    // Fully cached rebuild: through the CLI (a Node start, ~0.1 s here, is most of it) and the same
    // request to the warm engine over the protocol (what the editor's build task sends).
    if (!PER_RUN_ONLY) {
      const siloCached = timed(() => siloBuild(siloCtx, false));
      const conn = await connectEngine(silo.root, { engineScript: path.join(repoRoot, 'dist/silo.js') });
      const engineCached: number[] = [];
      for (let i = 0; i < RUNS + 1; i++) {
        const t = process.hrtime.bigint();
        await conn.sendRequest(P.BuildRequest.type, { stream: 'bench', context: siloCtx, tags: ['bench'] });
        if (i > 0) engineCached.push(ms(t));
      }
      conn.dispose();
      const siloEngine = median(engineCached);
      for (const p of peers) {
        const v = timed(() => p.build(peerCtx, false));
        const isTarget = !p.name.startsWith('docker');
        emit({ bench: 'build: fully cached rebuild, 12 steps (10 RUN), CLI end to end', unit: 'ms', silo: siloCached, peer: p.name, peerValue: v, ratio: v / siloCached, target: isTarget ? '>= 5x faster' : 'reference (faster than docker)', pass: isTarget ? v / siloCached >= 5 : v > siloCached });
        emit({ bench: 'build: fully cached rebuild, 12 steps (10 RUN), engine request (warm engine) vs the peer CLI', unit: 'ms', silo: siloEngine, peer: p.name, peerValue: v, ratio: v / siloEngine, target: isTarget ? '>= 5x faster' : 'reference (faster than docker)', pass: isTarget ? v / siloEngine >= 5 : v > siloEngine });
      }
    }

    // Cold (every step rebuilt).
    const siloCold = timed(() => siloBuild(siloCtx, true), false);
    for (const p of peers) {
      const v = timed(() => p.build(peerCtx, true), false);
      emit({ bench: 'build: cold (--no-cache), 12 steps (10 RUN), CLI end to end', unit: 'ms', silo: siloCold, peer: p.name, peerValue: v, ratio: v / siloCold, target: 'reference (faster than the peer)', pass: v > siloCold });
    }

    // Per-RUN overhead over a bare crun run of the same command.
    const noRuns = context('busybox', 0);
    const siloNoRun = timed(() => siloBuild(noRuns, true), false);
    const perRun = (siloCold - siloNoRun) / STEPS;
    const bundle = mkdtempSync('/tmp/silo-bench-crun-');
    mkdirSync(path.join(bundle, 'rootfs'));
    execFileSync('tar', ['-C', path.join(bundle, 'rootfs'), '-xf', '-'], { input: rootfs });
    execFileSync('crun', ['spec'], { cwd: bundle });
    execFileSync('sed', ['-i', 's/"terminal": true/"terminal": false/; s/"readonly": true/"readonly": false/; s/"sh"/"sh", "-c", "echo 1 > \\/f1"/', path.join(bundle, 'config.json')]);
    const crunRun = () => {
      const [cmd, args] = crunArgs(['--root', path.join(bundle, 'state'), 'run', '--bundle', bundle, `b${process.pid}`]);
      run(cmd, args);
    };
    const crun = timed(crunRun);
    rmSync(bundle, { recursive: true, force: true });
    const overhead = perRun - crun;
    emit({ bench: 'build: per-RUN overhead of a cold build over a bare crun run (sh -c "echo > file")', unit: 'ms', silo: overhead, peer: 'crun run (same command)', peerValue: crun, ratio: perRun / crun, target: '< 50 ms', pass: overhead < 50 });
    for (const d of [siloCtx, peerCtx, noRuns]) rmSync(d, { recursive: true, force: true });
  } finally {
    silo.dispose();
    await dockerd?.stop();
    rmSync(temp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
