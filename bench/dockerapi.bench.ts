// `docker run --rm busybox /bin/true` with the same docker CLI, through Silo's Docker API and through a
// private dockerd (reference/offline-testing.md), side by side in one run. One JSON line on stdout.
// Run: node --import tsx bench/dockerapi.bench.ts
import { execFileSync, spawnSync } from 'node:child_process';
import { startDockerd, DOCKER_CLIENT } from '../test/fixtures/fixtureDockerd';
import { SiloFixture } from '../test/fixtures/fixtureSilo';

const RUNS = Number(process.env.RUNS ?? 10);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timeRuns(env: NodeJS.ProcessEnv, extra: string[]): number[] {
  const out: number[] = [];
  const args = ['run', '--rm', ...extra, 'busybox', '/bin/true'];
  spawnSync(DOCKER_CLIENT, args, { env }); // warm-up
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(DOCKER_CLIENT, args, { env });
    if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed: ${r.stderr}`);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

async function main() {
  const silo = new SiloFixture();
  const dockerd = await startDockerd();
  try {
    silo.importBusybox();
    const host = /^export DOCKER_HOST=(.+)$/.exec(silo.ok(['docker-env']).trim())![1];
    const siloEnv = { ...process.env, DOCKER_HOST: host };
    // The same busybox in both: saved from Silo, loaded into dockerd.
    const tar = execFileSync(DOCKER_CLIENT, ['save', 'busybox'], { env: siloEnv, maxBuffer: 64 * 1024 * 1024 });
    execFileSync(DOCKER_CLIENT, ['load'], { env: dockerd.env, input: tar });
    const s = median(timeRuns(siloEnv, []));
    // dockerd here has no bridge: containers need --network none (fixtureDockerd).
    const p = median(timeRuns(dockerd.env, ['--network', 'none']));
    process.stderr.write(`docker run --rm busybox /bin/true: Silo ${s.toFixed(0)} ms, dockerd ${p.toFixed(0)} ms (medians of ${RUNS})\n`);
    process.stdout.write(JSON.stringify({
      bench: 'dockerapi-run-rm', unit: 'ms', silo: Math.round(s), peer: 'dockerd 20.10', peerValue: Math.round(p),
      ratio: Math.round((p / s) * 10) / 10, target: 'silo >= 2x faster', pass: p / s >= 2,
    }) + '\n');
  } finally {
    silo.dispose();
    await dockerd.stop();
  }
}

main().catch((err) => { process.stderr.write(`${(err as Error).stack ?? err}\n`); process.exit(1); });
