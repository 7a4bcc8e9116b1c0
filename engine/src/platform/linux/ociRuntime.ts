// The Linux Runtime: crun (runc as fallback) under one silo-monitor process per container.
// The engine writes the OCI bundle, starts the monitor detached (its own session, so it outlives the
// engine) through the monitor launcher (monitorLauncher.ts), and reads the monitor's one-line start-up
// report from fd 3.
import { spawn } from 'node:child_process';
import { promises as fs, closeSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { invalidArgument, notFound, SiloError } from '../../errors';
import { containerFiles, execFiles, makeRunDir, runDir, type MonitorReport } from '../../runtime/monitor';
import type { ContainerIO, ContainerSpec, ProcessSpec, Runtime, Started } from '../../runtime/runtime';
import type { Mount } from '../../layers/snapshotter';
import { linuxHost, type LinuxHost } from './host';
import { execProcess, ociSpec, type ImageFileReader } from './ociSpec';
import { LauncherUnavailable, MonitorLauncher } from './monitorLauncher';

const RUNTIME_ROOT = '/run/silo/runtime';

/**
 * Reads a file of the image through the overlay's layer dirs (upper first), without mounting and
 * without following any symlink: a symlinked /etc/passwd in an image must not read a host file.
 */
export function overlayFileReader(rootfs: Mount[]): ImageFileReader {
  const overlay = rootfs.find((m) => m.type === 'overlay');
  const opt = (key: string) => overlay?.options.find((o) => o.startsWith(key + '='))?.slice(key.length + 1);
  const cwd = opt('silo.cwd') ?? '/';
  const dirs = [opt('upperdir'), ...(opt('lowerdir')?.split(':') ?? [])].filter((d): d is string => !!d).map((d) => path.resolve(cwd, d));
  return (absPath) => {
    const parts = absPath.split('/').filter(Boolean);
    for (const dir of dirs) {
      let p = dir;
      let hidden = false;
      for (let i = 0; i < parts.length; i++) {
        p = path.join(p, parts[i]);
        let st;
        try {
          st = lstatSync(p);
        } catch {
          st = undefined;
        }
        if (!st) break;
        if (st.isCharacterDevice() && st.rdev === 0) { hidden = true; break; } // overlay whiteout
        if (st.isSymbolicLink()) { hidden = true; break; }
        if (i === parts.length - 1 && st.isFile() && st.size < 4 * 1024 * 1024) return readFileSync(p, 'utf8');
      }
      if (hidden) return undefined;
    }
    return undefined;
  };
}

/** Overlay options with lowerdirs relative to their common parent, so long chains fit in one page. */
function overlayMountArgs(rootfs: Mount[]): string[] {
  const overlay = rootfs.find((m) => m.type === 'overlay');
  if (!overlay) throw invalidArgument('the Linux runtime needs an overlay root filesystem');
  const lower = overlay.options.find((o) => o.startsWith('lowerdir='))?.slice('lowerdir='.length).split(':') ?? [];
  const common = lower.length ? path.dirname(path.dirname(lower[0])) : '/';
  const rel = (d: string) => (d.startsWith(common + '/') ? path.relative(common, d) : d);
  const options = overlay.options
    .filter((o) => !o.startsWith('silo.'))
    .map((o) => (o.startsWith('lowerdir=') ? 'lowerdir=' + lower.map(rel).join(':') : o));
  return ['--rootfs-mount', options.join(','), '--rootfs-cwd', common];
}

// These files and the bundle's config.json are written afresh at every start, so a crash mid-write
// costs nothing: plain writes, no fsync (each fsync costs milliseconds on the start path). Synchronous:
// a few small files, where a thread-pool round trip per call costs more than the write itself.
function writeEtcFiles(dir: string, spec: ContainerSpec) {
  const files = {
    hostname: path.join(dir, 'hostname'),
    hosts: path.join(dir, 'hosts'),
    resolvConf: path.join(dir, 'resolv.conf'),
  };
  writeFileSync(files.hostname, spec.hostname + '\n');
  writeFileSync(
    files.hosts,
    `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${spec.hostname}\n`,
  );
  // The host's resolvers, less loopback ones: inside the container's own network namespace they
  // would point at the container itself (Docker filters them the same way).
  let resolv = '';
  try {
    resolv = readFileSync('/etc/resolv.conf', 'utf8')
      .split('\n')
      .filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l))
      .join('\n');
  } catch {
    /* no resolv.conf on the host: the container gets an empty one */
  }
  writeFileSync(files.resolvConf, resolv);
  return files;
}

/** Starts the monitor through the launcher (or, if that never came up, by a spawn) and reads its start-up report. */
async function launchMonitor(host: LinuxHost, launcher: MonitorLauncher, args: string[], monitorLog: string, what: 'container' | 'exec process'): Promise<Started> {
  let launched;
  try {
    launched = await launcher.launch(args, monitorLog);
  } catch (err) {
    if (err instanceof LauncherUnavailable) return spawnMonitor(host, args, monitorLog, what);
    throw err;
  }
  let parsed: MonitorReport | undefined;
  try {
    parsed = JSON.parse(launched.report) as MonitorReport;
  } catch {
    parsed = undefined;
  }
  // The launcher answers for a monitor that failed only once it has exited: its mount namespace
  // (holding the root filesystem) is gone before the caller removes the snapshot.
  if (parsed && 'pid' in parsed) return { pid: parsed.pid, monitorPid: launched.monitorPid };
  throw startError(parsed, what);
}

/** Spawns the monitor and waits for its start-up report on fd 3. */
function spawnMonitor(host: LinuxHost, args: string[], monitorLog: string, what: 'container' | 'exec process'): Promise<Started> {
  return new Promise((resolve, reject) => {
    let logFd: number;
    try {
      logFd = openSync(monitorLog, 'a');
    } catch (err) {
      reject(err);
      return;
    }
    let child;
    try {
      child = spawn(host.monitorPath, args, { detached: true, stdio: ['ignore', logFd, logFd, 'pipe'] });
    } finally {
      closeSync(logFd);
    }
    let text = '';
    const report = child.stdio[3] as NodeJS.ReadableStream;
    report.setEncoding('utf8');
    report.on('data', (d: string) => (text += d));
    let exited = false;
    const exit = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
    report.on('end', () => {
      child.unref();
      let parsed: MonitorReport | undefined;
      try {
        parsed = JSON.parse(text.split('\n')[0]) as MonitorReport;
      } catch {
        parsed = undefined;
      }
      if (parsed && 'pid' in parsed) resolve({ pid: parsed.pid, monitorPid: child.pid! });
      // A monitor that failed exits at once; wait for it, so that its mount namespace (holding the
      // root filesystem) is gone before the caller removes the snapshot.
      else void (exited ? Promise.resolve() : exit).then(() => reject(startError(parsed, what)));
    });
    child.on('error', (err) => reject(new SiloError('Unavailable', `cannot start the container monitor: ${err.message}`)));
  });
}

function startError(report: { error: string; exitCode: number } | undefined, what: string): SiloError {
  if (!report) return new SiloError('Internal', 'the container monitor exited without a report', 'see monitor.log in the container directory');
  const msg = report.error.replace(/^crun: |^runc: /, '');
  // Docker's exit codes for `run`: 127 command not found, 126 not executable (docker run reference).
  if (/not found|no such file/i.test(msg)) return Object.assign(new SiloError('InvalidArgument', `failed to start the ${what}: ${msg}`), { exitCode: 127 });
  if (/permission denied/i.test(msg)) return Object.assign(new SiloError('InvalidArgument', `failed to start the ${what}: ${msg}`), { exitCode: 126 });
  return Object.assign(new SiloError('FailedPrecondition', `failed to start the ${what}: ${msg}`), { exitCode: 125 });
}

export class OciRuntime implements Runtime {
  private readonly host: LinuxHost;
  private readonly launcher: MonitorLauncher;
  readonly name: string;

  constructor(host: LinuxHost = linuxHost()) {
    this.host = host;
    this.name = host.runtimeName;
    this.launcher = new MonitorLauncher(host.monitorPath);
  }

  private commonArgs(mode: 'create' | 'exec'): string[] {
    const args = ['--runtime', this.host.runtimePath, '--runtime-root', RUNTIME_ROOT];
    if (this.host.cgroupMode === 'hybrid' && this.host.runtimeName === 'crun') args.push('--hybrid-cgroups');
    // crun in the foreground: one runtime process per container start instead of `run --detach` plus
    // `delete` (silo-monitor.c). runc keeps the detached form, its foreground console handling differs.
    if (mode === 'create' && this.host.runtimeName === 'crun') args.push('--foreground');
    return args;
  }

  async start(spec: ContainerSpec, io: ContainerIO): Promise<Started> {
    const files = containerFiles(io.dir);
    // What is made afresh at every start (the bundle, the /etc files, the runtime's pid file and log)
    // lives in the run dir, beside the control socket, as containerd keeps its bundles under /run: a
    // tmpfs on most hosts, where each file costs a fraction of one on the data root's file system.
    await makeRunDir(io.dir);
    const run = runDir(io.dir);
    const bundle = files.bundle;
    mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
    const etcFiles = writeEtcFiles(run, spec);
    const config = ociSpec(spec, { etcFiles, readImageFile: overlayFileReader(spec.rootfs), consoleSize: io.consoleSize });
    writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));
    rmSync(files.exit, { force: true });
    const args = [
      'create', '--id', spec.id, ...this.commonArgs('create'), '--bundle', bundle,
      '--log', files.log, '--exit', files.exit, '--socket', files.socket, '--state-dir', run,
      ...overlayMountArgs(spec.rootfs),
    ];
    if (spec.process.terminal) args.push('--terminal');
    if (spec.process.stdin) args.push('--stdin');
    if (io.logMaxSize) args.push('--log-max-size', String(io.logMaxSize));
    if (io.logMaxFiles) args.push('--log-max-files', String(io.logMaxFiles));
    for (const p of spec.ports) {
      if (p.protocol !== 'tcp') throw invalidArgument(`publishing ${p.protocol} ports is not supported yet`, 'publish TCP ports');
      const ip = p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp;
      args.push('--port', `${ip}:${p.hostPort}:${p.containerPort}`);
    }
    return launchMonitor(this.host, this.launcher, args, files.monitorLog, 'container');
  }

  async exec(spec: ContainerSpec, execId: string, proc: ProcessSpec, io: ContainerIO): Promise<Started> {
    const files = containerFiles(io.dir);
    const ef = execFiles(io.dir, execId);
    const processJson = execProcess(proc, overlayFileReader(spec.rootfs), io.consoleSize);
    await fs.writeFile(ef.process, JSON.stringify(processJson));
    const args = ['exec', '--id', spec.id, ...this.commonArgs('exec'), '--process', ef.process, '--log', ef.log, '--exit', ef.exit, '--socket', ef.socket];
    if (proc.terminal) args.push('--terminal');
    if (proc.stdin) args.push('--stdin');
    try {
      return await launchMonitor(this.host, this.launcher, args, files.monitorLog, 'exec process');
    } catch (err) {
      if (err instanceof SiloError && /does not exist|not running/i.test(err.message)) throw notFound(`container ${spec.id} is not running`);
      throw err;
    }
  }

  async delete(id: string): Promise<void> {
    // The monitor deletes the runtime's state when the container exits; this covers a monitor that died.
    await new Promise<void>((resolve) => {
      const child = spawn(this.host.runtimePath, [`--root=${RUNTIME_ROOT}`, 'delete', '--force', id], { stdio: 'ignore' });
      child.on('exit', () => resolve());
      child.on('error', () => resolve());
    });
  }
}
