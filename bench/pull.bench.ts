// Pull of a 3-layer image of about 300 MB from a loopback docker-registry into an empty store: Silo
// (`dist/silo pull` into a running engine: download, verify, unpack through overlayfs) vs `skopeo copy
// docker://... oci:DIR` (download and verify only), both command lines end to end, alternating, median
// of ROUNDS each (a fresh data root and engine for every Silo round; the engine's start is not timed).
// Also MB/s against this machine's single-core pipeline limit (sha256 + gunzip + sha256, gunzip by the
// inflater Silo uses), and the CPU each side kept busy (the machine's, the engine's, the registry's):
// skopeo neither inflates nor unpacks, so on a small machine the ratio is set by CPU, not the network.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { isalAvailable, isalGunzip } from '../engine/src/layers/gunzip';
import { RegistryClient } from '../engine/src/registry/client';
import { fixtureTar } from '../test/fixtures/fixtureTar';
import { SiloFixture } from '../test/fixtures/fixtureSilo';
import { startRegistry } from '../test/fixtures/fixtureRegistry';

const LAYERS = 3;
/** Alternating Silo and skopeo pulls; the medians are compared. */
const ROUNDS = 3;
const LAYER_MB = 100;
/** The size of each file in a bench layer (20 per layer). */
const FILE_BYTES = (LAYER_MB / 20) * 1024 * 1024;

/** Writes `data` to a new file in 1 MB writes, as the unpack does. */
function writeInPieces(file: string, data: Buffer): void {
  const fd = openSync(file, 'w');
  try {
    for (let off = 0; off < data.length; off += 1 << 20) writeSync(fd, data.subarray(off, off + (1 << 20)));
  } finally {
    closeSync(fd);
  }
}

/** Seconds of non-idle CPU summed over every core since boot (all processes: engine, registry, peer). */
function machineCpuS(): number {
  return os.cpus().reduce((a, c) => a + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0) / 1000;
}

/** [user, system] CPU seconds of one process (all its threads), or of one thread as "pid/task/tid" (Linux /proc; 100 Hz ticks). */
function processUserSys(pid: number | string): [number, number] {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return [Number(fields[11]) / 100, Number(fields[12]) / 100];
}

const processCpuS = (pid: number | string): number => processUserSys(pid).reduce((a, b) => a + b);

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function main(): Promise<void> {
  const reg = await startRegistry();
  try {
    const client = new RegistryClient(reg.domain);
    const layers: Array<{ blob: Buffer; diffID: string }> = [];
    for (let i = 0; i < LAYERS; i++) {
      // Half random, half text-like: compresses about 2:1 like real layers.
      const files = Array.from({ length: 20 }, (_, j) => ({ name: `l${i}/f${j}.bin`, data: j % 2 ? randomBytes(FILE_BYTES) : Buffer.alloc(FILE_BYTES, `layer ${i} file ${j} `) }));
      const tar = await fixtureTar(files);
      layers.push({ blob: zlib.gzipSync(tar, { level: 1 }), diffID: sha(tar) });
    }
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffID) }, config: {} }));
    const repo = 'bench/pull';
    for (const b of [...layers.map((l) => l.blob), config]) {
      const loc = await client.startUpload(repo);
      await client.putBlob(repo, loc, { digest: sha(b), size: b.length }, () => Readable.from([b]));
    }
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(l.blob), size: l.blob.length })),
    }));
    await client.putManifest(repo, '1', manifest, 'application/vnd.oci.image.manifest.v1+json');
    const compressedMB = layers.reduce((a, l) => a + l.blob.length, 0) / 1e6;

    // Single-core pipeline limit: sha256(compressed) + gunzip + sha256(plain), in memory, with the
    // inflater Silo uses (ISA-L when dist/libsilo-gunzip.so loads, else zlib).
    const inflater = isalAvailable() ? 'ISA-L' : 'zlib';
    let t0 = process.hrtime.bigint();
    for (const l of layers) {
      createHash('sha256').update(l.blob).digest();
      const hash = createHash('sha256');
      await pipeline(Readable.from([l.blob]), isalGunzip() ?? zlib.createGunzip({ chunkSize: 1 << 20 }), new Writable({ write(c: Buffer, _e, cb) { hash.update(c); cb(); } }));
      hash.digest();
    }
    const limitS = Number(process.hrtime.bigint() - t0) / 1e9;
    // The disk side of the floor: every layer's files and its blob written once (1 MB writes, page cache),
    // on this thread only (not V8's GC threads). Twice, counting the second: a process's first 460 MB of
    // writes cost 3-4x the later ones here (0.7 s against 0.16-0.2 s), and a floor must not overstate.
    let writeCpuS = 0;
    for (let round = 0; round < 2; round++) {
      const floorDir = mkdtempSync(path.join(os.tmpdir(), 'silo-bench-floor-'));
      writeCpuS = 0;
      for (const [i, l] of layers.entries()) {
        const tar = zlib.gunzipSync(l.blob);
        const before = processCpuS(`${process.pid}/task/${process.pid}`);
        writeInPieces(path.join(floorDir, `blob${i}`), l.blob);
        for (let off = 0, f = 0; off < tar.length; off += FILE_BYTES, f++) writeInPieces(path.join(floorDir, `f${i}-${f}`), tar.subarray(off, off + FILE_BYTES));
        writeCpuS += processCpuS(`${process.pid}/task/${process.pid}`) - before;
      }
      rmSync(floorDir, { recursive: true, force: true });
    }

    layers.length = 0; // what follows measures the pulls, not this process's memory

    const ref = `${reg.domain}/${repo}:1`;
    type Round = { s: number; cpu: number; reg: number; engine?: number; engineSys?: number };
    const siloRounds: Round[] = [];
    const skopeoRounds: Round[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Silo: a fresh data root and engine (started by `silo info`, not timed), then `silo pull -q`.
      const silo = new SiloFixture();
      try {
        silo.ok(['info']);
        const pid = silo.enginePid()!;
        const cpu0 = machineCpuS();
        const reg0 = processCpuS(reg.pid);
        const [eu0, es0] = processUserSys(pid);
        t0 = process.hrtime.bigint();
        silo.ok(['pull', '-q', ref], { timeoutMs: 120_000 });
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        const [eu, es] = processUserSys(pid);
        siloRounds.push({ s, cpu: machineCpuS() - cpu0, reg: processCpuS(reg.pid) - reg0, engine: eu - eu0 + es - es0, engineSys: es - es0 });
      } finally {
        silo.dispose();
      }

      const dir = mkdtempSync('/var/tmp/silo-bench-skopeo-');
      try {
        const cpu0 = machineCpuS();
        const reg0 = processCpuS(reg.pid);
        t0 = process.hrtime.bigint();
        execFileSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${dir}/img:1`], { stdio: 'ignore' });
        skopeoRounds.push({ s: Number(process.hrtime.bigint() - t0) / 1e9, cpu: machineCpuS() - cpu0, reg: processCpuS(reg.pid) - reg0 });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const mid = (rounds: Round[]) => [...rounds].sort((x, y) => x.s - y.s)[Math.floor(rounds.length / 2)];
    const siloM = mid(siloRounds);
    const skopeoM = mid(skopeoRounds);
    const ratio = siloM.s / skopeoM.s;
    // The least CPU a pull with unpack needs (hash + gunzip + hash, the files and blob written, the
    // registry's sending), spread perfectly over every core with no runtime cost: a floor, not a target.
    const floorS = (limitS + writeCpuS + siloM.reg) / os.cpus().length;
    console.log(JSON.stringify({ bench: 'pull-3x100MB-loopback', unit: 's', silo: +siloM.s.toFixed(3), peer: 'skopeo copy docker:// oci:', peerValue: +skopeoM.s.toFixed(3), ratio: +ratio.toFixed(3), target: '<= 1.0', pass: ratio <= 1 }));
    console.log(`rounds (s): silo ${siloRounds.map((r) => r.s.toFixed(3)).join(' ')}; skopeo ${skopeoRounds.map((r) => r.s.toFixed(3)).join(' ')}`);
    console.log(`silo ${(compressedMB / siloM.s).toFixed(1)} MB/s compressed (download+verify+unpack); single-core hash+gunzip(${inflater})+hash limit ${(compressedMB / limitS).toFixed(1)} MB/s; skopeo ${(compressedMB / skopeoM.s).toFixed(1)} MB/s`);
    console.log(`floor on ${os.cpus().length} cores: ${floorS.toFixed(3)} s = (hash+gunzip+hash ${limitS.toFixed(2)} + file and blob writes ${writeCpuS.toFixed(2)} + registry ${siloM.reg.toFixed(2)} CPU-s) / ${os.cpus().length}, ratio ${(floorS / skopeoM.s).toFixed(2)} to skopeo at best`);
    // Busy CPU of the whole machine (registry included) while each ran: skopeo neither gunzips nor unpacks.
    console.log(`machine CPU busy (median rounds): silo ${siloM.cpu.toFixed(2)} s (engine ${siloM.engine!.toFixed(2)} s of which system ${siloM.engineSys!.toFixed(2)} s, registry ${siloM.reg.toFixed(2)} s), skopeo ${skopeoM.cpu.toFixed(2)} s (registry ${skopeoM.reg.toFixed(2)} s); ${os.cpus().length} cores`);
  } finally {
    await reg.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
