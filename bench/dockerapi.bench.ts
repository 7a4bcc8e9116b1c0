// `docker run --rm busybox /bin/true`, and `docker build` (classic builder) cold (--no-cache) and
// cached, with the same docker CLI, through Silo's Docker API and through a private dockerd
// (reference/offline-testing.md), side by side in one run. One JSON line per measure on stdout.
// Run: node --import tsx bench/dockerapi.bench.ts
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { startDockerd, DOCKER_CLIENT } from '../test/fixtures/fixtureDockerd';
import { SiloFixture } from '../test/fixtures/fixtureSilo';
import { median } from './measure';

const RUNS = Number(process.env.RUNS ?? 10);

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

const BUILD_RUNS = Number(process.env.BUILD_RUNS ?? 5);

/** A small context: a COPY of a few files and three RUN steps, each a container in both engines. */
function buildContext(): string {
  const dir = mkdtempSync('/tmp/silo-bench-build-');
  writeFileSync(path.join(dir, 'Dockerfile'), [
    'FROM busybox',
    'ENV GREETING=hello',
    'COPY app/ /app/',
    'RUN cat /app/*.txt | wc -c > /app/size',
    'RUN mkdir -p /data && for i in 1 2 3 4 5; do echo "$GREETING $i" >> /data/lines; done',
    'RUN sha256sum /app/*.txt > /app/sums',
    'CMD ["cat", "/app/size"]',
    '',
  ].join('\n'));
  const app = path.join(dir, 'app');
  execFileSync('mkdir', ['-p', app]);
  for (let i = 0; i < 20; i++) writeFileSync(path.join(app, `f${i}.txt`), `file ${i}\n`.repeat(500));
  return dir;
}

function timeBuilds(env: NodeJS.ProcessEnv, ctx: string, cold: boolean): number[] {
  const args = ['build', ...(cold ? ['--no-cache'] : []), '--network', 'none', '-q', '-t', 'benchbuild:1', ctx];
  const benv = { ...env, DOCKER_BUILDKIT: '0' }; // the classic /build API, which Silo serves
  const prime = spawnSync(DOCKER_CLIENT, args, { env: benv }); // warm-up, and the cache for cached runs
  if (prime.status !== 0) throw new Error(`docker ${args.join(' ')} failed: ${prime.stderr}`);
  const out: number[] = [];
  for (let i = 0; i < BUILD_RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(DOCKER_CLIENT, args, { env: benv });
    if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed: ${r.stderr}`);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

function line(bench: string, s: number, p: number, target: string, pass: boolean) {
  process.stdout.write(JSON.stringify({
    bench, unit: 'ms', silo: Math.round(s), peer: 'dockerd 20.10', peerValue: Math.round(p), ratio: Math.round((p / s) * 10) / 10, target, pass,
  }) + '\n');
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
    line('dockerapi-run-rm', s, p, 'silo >= 2x faster', p / s >= 2);

    // Builds: cold and cached alternate engine by engine, so noise on the shared machine hits both.
    const ctx = buildContext();
    try {
      for (const cold of [true, false]) {
        const sb = median(timeBuilds(siloEnv, ctx, cold));
        const pb = median(timeBuilds(dockerd.env, ctx, cold));
        const kind = cold ? 'cold (--no-cache)' : 'cached';
        process.stderr.write(`docker build ${kind}: Silo ${sb.toFixed(0)} ms, dockerd ${pb.toFixed(0)} ms (medians of ${BUILD_RUNS})\n`);
        line(cold ? 'dockerapi-build-cold' : 'dockerapi-build-cached', sb, pb, 'silo no slower than dockerd', pb / sb >= 1);
      }
    } finally {
      rmSync(ctx, { recursive: true, force: true });
    }
  } finally {
    silo.dispose();
    await dockerd.stop();
  }
}

main().catch((err) => { process.stderr.write(`${(err as Error).stack ?? err}\n`); process.exit(1); });
