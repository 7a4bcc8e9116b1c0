// Docker as the oracle for `silo build`: the same Dockerfiles (the corpus) built by Silo and by a
// private real dockerd with the classic builder (DOCKER_BUILDKIT=0, --network none), over the same
// busybox rootfs imported into both. The images must agree on what a user can observe: every layer's
// files (path, type, mode, owner, size, content hash, link target; not mtimes), the runnable config,
// and the history lines that do not carry a builder-specific hash.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import * as tarStream from 'tar-stream';
import { DOCKER_CLIENT, startDockerd, type PrivateDockerd } from '../../fixtures/fixtureDockerd';
import { SiloFixture, repoRoot } from '../../fixtures/fixtureSilo';

const corpus = path.join(repoRoot, 'test/fixtures/dockerfiles-build');
let silo: SiloFixture | undefined;
let dockerd: PrivateDockerd | undefined;
let server: ChildProcess | undefined;
let baseUrl = '';
/** One file, with a fixed Last-Modified (ADD <url> sets the mtime from it). Prints its port. */
const HTTP_SERVER = `
const s = require('node:http').createServer((req, res) => {
  if (req.url !== '/hello.txt') return void res.writeHead(404).end();
  res.writeHead(200, { 'Last-Modified': 'Tue, 03 Mar 2020 10:00:00 GMT' }).end('hello over http\\n');
});
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;
let skip: string | false = existsSync(DOCKER_CLIENT) ? false : 'no docker CLI';

before(async () => {
  if (skip) return;
  try {
    dockerd = await startDockerd();
  } catch (err) {
    skip = `no private dockerd: ${(err as Error).message}`;
    return;
  }
  const rootfs = execFileSync('bash', [path.join(repoRoot, 'scripts/make-busybox-rootfs.sh')], { maxBuffer: 64 * 1024 * 1024 });
  silo = new SiloFixture();
  silo.ok(['import', '-', 'busybox:latest'], { input: rootfs });
  execFileSync(DOCKER_CLIENT, ['import', '-', 'busybox:latest'], { env: dockerd.env, input: rootfs });
  // ADD <url>: dockerd fetches from the host's network, so loopback reaches it as it reaches Silo. The
  // server is its own process: the builds below run through spawnSync, which blocks this one.
  server = spawn(process.execPath, ['-e', HTTP_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(server.stdout!, 'data')) as [Buffer];
  baseUrl = `http://127.0.0.1:${line.toString().trim()}`;
});
after(async () => {
  silo?.dispose();
  await dockerd?.stop();
  server?.kill();
});

interface Entry {
  path: string;
  type: string;
  mode: string;
  owner: string;
  size?: number;
  sha256?: string;
  link?: string;
}

interface BuiltImage {
  config: Record<string, unknown>;
  history: Array<{ created_by?: string; empty_layer?: boolean }>;
  layers: Entry[][];
}

async function tarEntries(buf: Buffer, withContent: (name: string) => boolean): Promise<Map<string, { header: tarStream.Header; body?: Buffer }>> {
  const out = new Map<string, { header: tarStream.Header; body?: Buffer }>();
  const ex = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      const keep = withContent(header.name);
      stream.on('data', (c: unknown) => void (keep && chunks.push(c as Buffer)));
      stream.on('end', () => {
        out.set(header.name.replace(/^\.\//, ''), { header, body: keep ? Buffer.concat(chunks) : undefined });
        next();
      });
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  Readable.from([buf]).pipe(ex);
  await done;
  return out;
}

/** One layer tar (plain or gzip) as sorted entries. */
async function layerEntries(blob: Buffer): Promise<Entry[]> {
  const tar = blob[0] === 0x1f && blob[1] === 0x8b ? zlib.gunzipSync(blob) : blob;
  const entries: Entry[] = [];
  const ex = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const hash = createHash('sha256');
      let size = 0;
      stream.on('data', (c: unknown) => {
        hash.update(c as Buffer);
        size += (c as Buffer).length;
      });
      stream.on('end', () => {
        const p = h.name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
        if (path.posix.basename(p).startsWith('.wh.')) {
          // A whiteout is a marker no container sees: only its name means anything (Docker writes 0600, Silo 0644).
          entries.push({ path: p, type: 'whiteout', mode: '', owner: '' });
        } else if (p !== '' && p !== '.') {
          const e: Entry = { path: p, type: h.type ?? 'file', mode: ((h.mode ?? 0) & 0o7777).toString(8), owner: `${h.uid ?? 0}:${h.gid ?? 0}` };
          if (h.type === 'file') Object.assign(e, { size, sha256: hash.digest('hex').slice(0, 16) });
          if (h.type === 'symlink' || h.type === 'link') e.link = h.linkname ?? '';
          entries.push(e);
        }
        next();
      });
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  Readable.from([tar]).pipe(ex);
  await done;
  return entries.sort((a, b) => a.path.localeCompare(b.path));
}

/** `save` through either CLI, read back as config, history and per-layer entries. */
async function saved(archive: Buffer): Promise<BuiltImage> {
  const files = await tarEntries(archive, () => true);
  const manifest = JSON.parse(files.get('manifest.json')!.body!.toString()) as Array<{ Config: string; Layers: string[] }>;
  const cfg = JSON.parse(files.get(manifest[0].Config)!.body!.toString()) as { config?: Record<string, unknown>; history?: BuiltImage['history'] };
  const layers: Entry[][] = [];
  for (const l of manifest[0].Layers) layers.push(await layerEntries(files.get(l)!.body!));
  return { config: cfg.config ?? {}, history: cfg.history ?? [], layers };
}

interface Case {
  name: string;
  file?: string;
  args?: string[];
  prepare?(dir: string): void;
  /** Builds to run before this one, in both engines (e.g. an ONBUILD parent). */
  parent?: string;
  /** Paths only Docker's image has, each a known difference with its reason (checked to still differ). */
  dockerOnly?: Record<string, string>;
}

function dirOf(c: Case): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `silo-oracle-${c.name}-`));
  cpSync(path.join(corpus, c.name), dir, { recursive: true });
  c.prepare?.(dir);
  return dir;
}

function buildBoth(c: Case, tag: string): void {
  const dir = dirOf(c);
  const file = c.file ? ['-f', path.join(dir, c.file)] : [];
  silo!.ok(['build', '-t', tag, ...file, ...(c.args ?? []), dir], { timeoutMs: 120_000 });
  const d = spawnSync(DOCKER_CLIENT, ['build', '--network', 'none', '-t', tag, ...file, ...(c.args ?? []), dir], {
    env: { ...dockerd!.env, DOCKER_BUILDKIT: '0' },
    timeout: 180_000,
  });
  assert.equal(d.status, 0, `docker build ${c.name}: ${d.stderr}`);
}

/** `silo save` as bytes (the fixture's ok() decodes stdout as text). */
function siloSave(tag: string): Buffer {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'dist/silo.js'), '--root', silo!.root, 'save', tag], { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

const CONFIG_FIELDS = ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'Labels', 'ExposedPorts', 'Volumes', 'StopSignal', 'Shell', 'Healthcheck', 'OnBuild'];

function configOf(c: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of CONFIG_FIELDS) {
    const v = c[k];
    // Docker writes empty values as null or leaves them out; both mean "not set".
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length) || (typeof v === 'object' && !Array.isArray(v) && !Object.keys(v as object).length)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * History lines, with the part that names a builder's own source hash cut out: Docker writes
 * `COPY file:<sha of its tarsum> in /dest `, Silo its own hash; the instruction and destination agree.
 */
function historyOf(h: BuiltImage['history']): string[] {
  return h.map((e) => `${e.empty_layer ? 'empty ' : ''}${(e.created_by ?? '').replace(/^(\/bin\/sh -c #\(nop\) (?:COPY|ADD)(?: --\S+)*) .* in (\S+) $/, '$1 <src> in $2')}`);
}

async function compare(c: Case): Promise<void> {
  const tag = `oracle-${c.name}${c.file ? '-child' : ''}`;
  if (c.parent) buildBoth({ name: c.name }, `oracle-${c.parent}`);
  buildBoth(c, tag);
  const s = await saved(siloSave(tag));
  const d = await saved(execFileSync(DOCKER_CLIENT, ['save', tag], { env: dockerd!.env, maxBuffer: 256 * 1024 * 1024 }));
  if (process.env.SILO_ORACLE_DUMP) writeFileSync(path.join(process.env.SILO_ORACLE_DUMP, `${tag}.json`), JSON.stringify({ silo: s, docker: d }, null, 1));
  assert.deepEqual(configOf(s.config), configOf(d.config), `${c.name}: config`);
  assert.deepEqual(historyOf(s.history).slice(1), historyOf(d.history).slice(1), `${c.name}: history`);
  assert.equal(s.layers.length, d.layers.length, `${c.name}: number of layers`);
  // The first layer is the imported busybox rootfs in both; each built layer must add, change and
  // delete the same files. Directory entries are compared in the merged filesystem below: Docker's
  // layers also carry every parent directory of a change, unchanged (overlay2 tars its upper dir).
  const files = (l: Entry[]) => l.filter((e) => e.type !== 'directory');
  for (let i = 1; i < s.layers.length; i++) assert.deepEqual(files(s.layers[i]), files(d.layers[i]), `${c.name}: layer ${i}`);
  const known = Object.keys(c.dockerOnly ?? {});
  const siloFs = merged(s.layers);
  for (const p of known) assert.ok(!siloFs.some((e) => e.path === p), `${c.name}: ${p} is no longer a difference; drop it from dockerOnly`);
  assert.deepEqual(siloFs, merged(d.layers).filter((e) => !known.includes(e.path)), `${c.name}: the image's filesystem`);
}

/** The layers applied in order (OCI whiteouts honoured): what a container of the image sees. */
function merged(layers: Entry[][]): Entry[] {
  const fs = new Map<string, Entry>();
  for (const layer of layers) {
    for (const e of layer) {
      const base = path.posix.basename(e.path);
      const dir = path.posix.dirname(e.path);
      if (base === '.wh..wh..opq') {
        for (const k of [...fs.keys()]) if (k.startsWith(`${dir}/`)) fs.delete(k);
      } else if (base.startsWith('.wh.')) {
        const gone = path.posix.join(dir, base.slice(4));
        for (const k of [...fs.keys()]) if (k === gone || k.startsWith(`${gone}/`)) fs.delete(k);
      } else fs.set(e.path, e);
    }
  }
  return [...fs.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** Edits a corpus Dockerfile where the classic builder differs on purpose (documented below). */
function edit(from: RegExp, to: string) {
  return (dir: string) => {
    const f = path.join(dir, 'Dockerfile');
    writeFileSync(f, readFileSync(f, 'utf8').replace(from, to));
  };
}

const cases: Case[] = [
  // --chmod needs BuildKit in Docker's classic builder; Silo takes it (the issue asks for it).
  { name: 'basic', prepare: edit(/--chmod=700 /, '') },
  { name: 'basic', args: ['--build-arg', 'GREETING=hey'], prepare: edit(/--chmod=700 /, '') },
  // The classic builder builds every stage, needed or not; Silo skips what the target does not need.
  { name: 'multistage', prepare: edit(/FROM busybox AS unused\nRUN exit 3\n/, '') },
  { name: 'wildcard' },
  { name: 'chown-name' },
  { name: 'config' },
  { name: 'onbuild' },
  {
    name: 'onbuild',
    file: 'Dockerfile.child',
    parent: 'onbuild',
  },
  // A RUN container gets an anonymous volume at each VOLUME, filled from the image: what it writes
  // there is not in its layer, what was there before stays; COPY is no container, so its file stays.
  { name: 'volume' },
  {
    name: 'add-tar',
    prepare(dir) {
      const tar = execFileSync('sh', ['-c', 'd=$(mktemp -d) && mkdir -p $d/in/deep && echo one > $d/in/one && echo two > $d/in/deep/two && chmod 751 $d/in/deep && ln -s one $d/in/link && tar -C $d --numeric-owner --owner=7 --group=8 -cf - in && rm -rf $d']);
      writeFileSync(path.join(dir, 'files.tar'), tar);
      writeFileSync(path.join(dir, 'files.tar.gz'), zlib.gzipSync(tar));
    },
  },
];

for (const c of cases) {
  test(`${c.name}${c.file ? ` (${c.file})` : ''}${c.args ? ` ${c.args.join(' ')}` : ''}: same files, config and history as docker build`, { skip }, () => compare(c));
}

test('url: ADD of an http URL gives the same file as docker build', { skip }, () => compare({ name: 'url', args: ['--build-arg', `URL=${baseUrl}`] }));
