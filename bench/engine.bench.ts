// Container start, exec and idle memory, side by side in one run:
// - engine-side `run --rm busybox true` (create, start, wait, remove over the protocol, warm engine)
//   vs a bare `crun run` of the same kind of bundle (target: at most 1.5x crun);
// - the CLI end to end vs `docker run --rm --network none` through a private dockerd, the peer users
//   compare with, and vs podman where Debian's podman is installed (target: at least 3x faster);
// - `exec true` over the protocol vs `crun exec` into the same running container;
// - the engine's resident memory when idle (target: under 60 MB).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import * as P from '../engine/src/protocol';
import { connectEngine } from '../engine/src/rpc/connect';
import { detectCgroupMode } from '../engine/src/platform/linux/host';
import { SiloFixture, hasTool, repoRoot } from '../test/fixtures/fixtureSilo';
import { startDockerd, DOCKER_CLIENT } from '../test/fixtures/fixtureDockerd';
import { median, ms, emit } from './measure';

const RUNS = 30;
/** SILO_BENCH_ENGINE=run measures the engine-side run row alone (no exec, memory or peers): for iterating on it. */
const RUN_ONLY = process.env.SILO_BENCH_ENGINE === 'run';

/** crun refuses hybrid cgroup hosts; Silo's monitor hides the unified mount, and so does this peer. */
function crunArgs(args: string[]): [string, string[]] {
  if (detectCgroupMode() !== 'hybrid') return ['crun', args];
  return ['unshare', ['-m', 'sh', '-c', `umount /sys/fs/cgroup/unified; exec crun ${args.map((a) => `'${a}'`).join(' ')}`]];
}

async function main() {
  const silo = new SiloFixture();
  try {
    silo.importBusybox();
    const conn = await connectEngine(silo.root, { engineScript: path.join(repoRoot, 'dist/silo.js') });
    const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
    const fresh = await conn.sendRequest(P.EngineInfoRequest.type, {});
    await conn.sendRequest(P.ContainerListRequest.type, { all: true });
    await new Promise((r) => setTimeout(r, 3000)); // past the engine's 2 s idle point
    const idle = rssOf(fresh.pid);
    emit({ bench: 'engine idle RSS (started, one image, no containers)', unit: 'MB', silo: idle, peer: 'target', peerValue: 60, ratio: idle / 60, target: '< 60 MB', pass: idle < 60 });
    const runOnce = async () => {
      const { id } = await conn.sendRequest(P.ContainerCreateRequest.type, { image: 'busybox', cmd: ['true'] });
      const exit = conn.sendRequest(P.ContainerWaitRequest.type, { id });
      await conn.sendRequest(P.ContainerStartRequest.type, { id });
      await exit;
      await conn.sendRequest(P.ContainerRemoveRequest.type, { id });
    };
    for (let i = 0; i < 3; i++) await runOnce();

    // A bare bundle for crun: the busybox rootfs from the same script.
    const dir = mkdtempSync('/tmp/silo-bench-');
    execFileSync('sh', ['-c', `mkdir ${dir}/rootfs && bash ${repoRoot}/scripts/make-busybox-rootfs.sh | tar -C ${dir}/rootfs -xf - && cd ${dir} && crun spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"true"/' config.json`]);
    const crunRun = () => {
      const [cmd, args] = crunArgs(['--root', `${dir}/state`, 'run', '--bundle', dir, `b${process.pid}`]);
      const r = spawnSync(cmd, args, { stdio: 'ignore' });
      if (r.status !== 0) throw new Error('crun run failed');
    };
    crunRun();

    const silo1: number[] = [];
    const crun1: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let t = process.hrtime.bigint();
      await runOnce();
      silo1.push(ms(t));
      t = process.hrtime.bigint();
      crunRun();
      crun1.push(ms(t));
    }
    const s = median(silo1);
    const c = median(crun1);
    emit({ bench: 'run --rm true, engine side (warm engine)', unit: 'ms', silo: s, peer: 'crun run (bare bundle)', peerValue: c, ratio: s / c, target: '<= 1.5x crun', pass: s / c <= 1.5 });
    if (RUN_ONLY) {
      conn.dispose();
      rmSync(dir, { recursive: true, force: true });
      return;
    }

    // exec into one running container: protocol vs crun exec.
    const { id } = await conn.sendRequest(P.ContainerCreateRequest.type, { image: 'busybox', cmd: ['sleep', '600'] });
    await conn.sendRequest(P.ContainerStartRequest.type, { id });
    const execSilo: number[] = [];
    const execCrun: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let t = process.hrtime.bigint();
      await conn.sendRequest(P.ExecRequest.type, { id, stream: `bench${i}`, cmd: ['true'] });
      execSilo.push(ms(t));
      t = process.hrtime.bigint();
      const [cmd, args] = crunArgs(['--root', '/run/silo/runtime', 'exec', id, 'true']);
      spawnSync(cmd, args, { stdio: 'ignore' });
      execCrun.push(ms(t));
    }
    const es = median(execSilo);
    const ec = median(execCrun);
    emit({ bench: 'exec true (running container)', unit: 'ms', silo: es, peer: 'crun exec', peerValue: ec, ratio: es / ec, target: 'report', pass: true });
    await conn.sendRequest(P.ContainerRemoveRequest.type, { id, force: true });

    // Memory after the bursts above, once idle again.
    await new Promise((r) => setTimeout(r, 3000));
    const busy = rssOf(fresh.pid);
    emit({ bench: `engine RSS idle after ${2 * RUNS + 3} containers`, unit: 'MB', silo: busy, peer: 'target', peerValue: 60, ratio: busy / 60, target: '< 60 MB', pass: busy < 60 });
    conn.dispose();

    // CLI end to end vs docker (and podman where installed).
    const cli = () => {
      const t = process.hrtime.bigint();
      silo.ok(['run', '--rm', 'busybox', 'true']);
      return ms(t);
    };
    const cliTimes: number[] = [];
    for (let i = 0; i < 10; i++) cliTimes.push(cli());
    const sc = median(cliTimes);
    let dockerd;
    try {
      dockerd = await startDockerd();
      const tar = execFileSync('bash', [`${repoRoot}/scripts/make-busybox-rootfs.sh`], { maxBuffer: 64 << 20 });
      execFileSync(DOCKER_CLIENT, ['import', '-', 'busybox:latest'], { input: tar, env: dockerd.env, stdio: ['pipe', 'ignore', 'inherit'] });
      const dockerTimes: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t = process.hrtime.bigint();
        execFileSync(DOCKER_CLIENT, ['run', '--rm', '--network', 'none', 'busybox', 'true'], { env: dockerd.env });
        dockerTimes.push(ms(t));
      }
      const d = median(dockerTimes);
      emit({ bench: 'silo run --rm busybox true (CLI end to end)', unit: 'ms', silo: sc, peer: 'docker run --rm (dockerd 20.10)', peerValue: d, ratio: sc / d, target: 'faster than docker', pass: sc < d });
    } catch (err) {
      emit({ bench: 'silo run --rm busybox true (CLI end to end)', unit: 'ms', silo: sc, peer: `docker unavailable: ${(err as Error).message.split('\n')[0]}`, peerValue: null, ratio: null, target: 'faster than docker', pass: false });
    } finally {
      await dockerd?.stop();
    }
    if (hasTool('podman')) {
      // The same rootfs, imported locally (nothing is pulled). Debian's podman 4.3 needs runc and these
      // rlimits here (reference/engine.md §1.2).
      const tar = execFileSync('bash', [`${repoRoot}/scripts/make-busybox-rootfs.sh`], { maxBuffer: 64 << 20 });
      execFileSync('podman', ['import', '-', 'localhost/silo-bench-busybox'], { input: tar, stdio: ['pipe', 'ignore', 'inherit'] });
      const podmanRun = ['--runtime', 'runc', 'run', '--rm', '--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=1000:1000', '--network', 'none', 'localhost/silo-bench-busybox', 'true'];
      const check = spawnSync('podman', podmanRun, { encoding: 'utf8' });
      if (check.status !== 0) throw new Error(`podman run failed: ${check.stderr}`);
      const podman: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = process.hrtime.bigint();
        spawnSync('podman', podmanRun, { stdio: 'ignore' });
        podman.push(ms(t));
      }
      const pm = median(podman);
      emit({ bench: 'silo run --rm busybox true (CLI end to end)', unit: 'ms', silo: sc, peer: 'podman run --rm', peerValue: pm, ratio: sc / pm, target: '>= 3x faster than podman', pass: pm / sc >= 3 });
    } else {
      process.stderr.write('podman is not installed (apt-get install podman): its comparison is skipped\n');
    }
    rmSync(dir, { recursive: true, force: true });
  } finally {
    silo.dispose();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`engine bench failed: ${err.stack ?? err}\n`);
    process.exit(1);
  },
);
