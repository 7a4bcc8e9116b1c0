// Packages Silo as platform-specific VSIXes (VS Code's `vsce package --target`), each carrying koffi's
// native binary for its platform: the HCS driver needs win32 binaries, the Linux engine linux ones.
//   node scripts/package.mjs                      every target into dist/silo-<target>.vsix
//   node scripts/package.mjs --target linux-x64 --out FILE
//   node scripts/package.mjs --fetch              only fill the binary cache (setup --test does this)
//   node scripts/package.mjs --offline ...        never download: a missing binary is an error
//   node scripts/package.mjs --no-build ...       package dist/ as it is
// koffi's binaries are npm packages (@koromix/koffi-<os>-<arch>); npm installs only the host's, so the
// others are fetched once with `npm pack` into a cache outside the clone and checked against the
// integrity package-lock.json pins before use.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = process.env.SILO_PACKAGE_CACHE ?? '/var/cache/silo-package';

// Windows is the product's home; linux-x64 is where the engine's C monitor is compiled. linux-arm64
// would need the monitor cross-compiled, which the build does not do yet.
export const TARGETS = ['win32-x64', 'win32-arm64', 'linux-x64'];

function fail(message) {
  process.stderr.write(`silo package: ${message}\n`);
  process.exit(1);
}

function lockEntry(name) {
  const lock = JSON.parse(readFileSync(path.join(repo, 'package-lock.json'), 'utf8'));
  const entry = lock.packages?.[`node_modules/${name}`];
  if (!entry?.version || !entry?.integrity) fail(`package-lock.json pins no ${name}: run npm install, then package again`);
  return entry;
}

function integrityOf(file, algorithm) {
  return `${algorithm}-${createHash(algorithm).update(readFileSync(file)).digest('base64')}`;
}

/** The verified tarball of koffi's binary package for a target, downloading it unless offline. */
function koffiTarball(target, offline) {
  const name = `@koromix/koffi-${target}`;
  const { version, integrity } = lockEntry(name);
  const file = path.join(cacheDir, `koromix-koffi-${target}-${version}.tgz`);
  if (!existsSync(file)) {
    if (offline) fail(`koffi's ${target} binary is not cached in ${cacheDir}: run node scripts/package.mjs --fetch (needs the npm registry)`);
    mkdirSync(cacheDir, { recursive: true });
    const tmp = path.join(cacheDir, `.fetch-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    try {
      execFileSync('npm', ['pack', '--silent', `${name}@${version}`, '--pack-destination', tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
    } catch {
      rmSync(tmp, { recursive: true, force: true });
      fail(`npm could not fetch ${name}@${version}: check the npm registry is reachable, then package again`);
    }
    const [got] = readdirSync(tmp);
    renameSync(path.join(tmp, got), file);
    rmSync(tmp, { recursive: true, force: true });
  }
  const [algorithm] = integrity.split('-');
  if (integrityOf(file, algorithm) !== integrity) {
    rmSync(file, { force: true });
    fail(`${path.basename(file)} does not match the integrity package-lock.json pins: removed it; package again to fetch it anew`);
  }
  return file;
}

/** Copies what the VSIX ships for one target into a staging directory vsce packages from. */
function stage(target, offline) {
  const dir = path.join(repo, 'out', 'package', target);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'dist'), { recursive: true });

  // The bundles carry every dependency but koffi (native), so the staged manifest depends on koffi alone.
  const manifest = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
  manifest.dependencies = { koffi: manifest.dependencies.koffi };
  delete manifest.devDependencies;
  delete manifest.scripts;
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));

  for (const f of readdirSync(repo)) if (f === 'README.md' || f.startsWith('LICENSE')) cpSync(path.join(repo, f), path.join(dir, f));
  for (const f of readdirSync(path.join(repo, 'dist'))) if (f.endsWith('.js')) cpSync(path.join(repo, 'dist', f), path.join(dir, 'dist', f));
  // The container monitor is a Linux program, built for this machine's architecture; so is the ISA-L
  // gunzip library (built when libisal-dev was there; the engine inflates with zlib without it).
  if (target === `linux-${process.arch}`) {
    cpSync(path.join(repo, 'dist', 'silo-monitor'), path.join(dir, 'dist', 'silo-monitor'));
    const gunzip = path.join(repo, 'dist', 'libsilo-gunzip.so');
    if (existsSync(gunzip)) cpSync(gunzip, path.join(dir, 'dist', 'libsilo-gunzip.so'));
  }
  for (const d of ['docs/rules', 'syntaxes']) if (existsSync(path.join(repo, d))) cpSync(path.join(repo, d), path.join(dir, d), { recursive: true });

  cpSync(path.join(repo, 'node_modules', 'koffi'), path.join(dir, 'node_modules', 'koffi'), { recursive: true });
  const binary = path.join(dir, 'node_modules', '@koromix', `koffi-${target}`);
  mkdirSync(binary, { recursive: true });
  const installed = path.join(repo, 'node_modules', '@koromix', `koffi-${target}`);
  if (existsSync(installed)) cpSync(installed, binary, { recursive: true });
  else execFileSync('tar', ['xzf', koffiTarball(target, offline), '-C', binary, '--strip-components=1']);
  if (!existsSync(path.join(binary, target.replace('-', '_'), 'koffi.node'))) fail(`the ${target} koffi package has no koffi.node`);
  // .vscodeignore keeps koffi's JavaScript and the one binary, not its sources or musl builds.
  cpSync(path.join(repo, '.vscodeignore'), path.join(dir, '.vscodeignore'));
  return dir;
}

export function packageTarget(target, out, { offline = false } = {}) {
  if (!TARGETS.includes(target)) fail(`unknown target ${target}: one of ${TARGETS.join(', ')}`);
  const dir = stage(target, offline);
  const vsce = path.join(repo, 'node_modules', '.bin', 'vsce');
  execFileSync(vsce, ['package', '--target', target, '--allow-missing-repository', '--skip-license', '-o', path.resolve(out)], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(dir, { recursive: true, force: true });
  return path.resolve(out);
}

function main(argv) {
  const arg = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const offline = argv.includes('--offline');
  if (argv.includes('--fetch')) {
    for (const t of TARGETS) if (!existsSync(path.join(repo, 'node_modules', '@koromix', `koffi-${t}`))) koffiTarball(t, false);
    return;
  }
  if (!argv.includes('--no-build')) execFileSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs')], { cwd: repo, stdio: 'inherit' });
  const target = arg('--target');
  if (target) {
    console.log(packageTarget(target, arg('--out') ?? path.join(repo, 'dist', `silo-${target}.vsix`), { offline }));
    return;
  }
  for (const t of TARGETS) console.log(packageTarget(t, path.join(repo, 'dist', `silo-${t}.vsix`), { offline }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
