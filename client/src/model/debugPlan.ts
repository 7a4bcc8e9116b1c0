// The `silo` debug type, resolved without vscode: a launch configuration becomes (1) the container
// to create, with the debugger reachable from the start, and (2) the configuration of the real
// debugger that VS Code then starts. The shapes follow Container Tools (shared reference editor.md §5):
//   node    node --inspect=0.0.0.0:<port>, the port published on 127.0.0.1 -> pwa-node attach
//   netCore vsdbg mounted read-only at create time (works in Hyper-V isolation, where copying into a
//           running container does not) -> coreclr launch over pipeTransport `silo exec -i`
//   python  debugpy mounted at create time -> debugpy attach with pathMappings
// Windows containers get Windows paths (C:\app); Linux containers POSIX paths (/usr/src/app).
import type { BindMount, ContainerCreateParams, PortMapping } from '../../../engine/src/protocol';

export type DebugPlatform = 'node' | 'netCore' | 'python';
export type ContainerOs = 'linux' | 'windows';

/** The `silo` launch configuration's properties (the manifest's `debuggers[].configurationAttributes`). */
export interface SiloDebugConfiguration {
  type: 'silo';
  request: 'launch';
  name: string;
  image: string;
  platform: DebugPlatform;
  containerName?: string;
  /** The container's OS; default: the host's. */
  os?: ContainerOs;
  isolation?: 'process' | 'hyperv' | 'default';
  /** Extra `-p` style ports, e.g. "8080:80". */
  ports?: string[];
  env?: string[];
  /** Keep the container after the session ends (default: removed). */
  removeContainerAfterDebug?: boolean;
  /** A log line matching this opens the browser at the URL it captures (Container Tools' serverReadyAction). */
  serverReadyPattern?: string;
  node?: { program?: string; inspectPort?: number; localRoot?: string; remoteRoot?: string; mountWorkspace?: boolean };
  netCore?: { appOutput?: string; dll?: string; vsdbgPath?: string; remoteRoot?: string };
  python?: { program?: string; debugpyPath?: string; port?: number; localRoot?: string; remoteRoot?: string };
}

export interface DebugPlan {
  create: ContainerCreateParams;
  /** The real debugger's configuration; `${containerName}` is already filled in. */
  debugger: Record<string, unknown>;
}

export interface PlanContext {
  workspaceFolder: string;
  hostOs: ContainerOs;
  /** How to run the silo CLI (for pipeTransport): [node, dist/silo.js]. */
  siloCommand: [string, ...string[]];
  /** A fresh name when the configuration names none. */
  containerName: string;
}

/** Default folder the app lives in inside the container (Container Tools' choices). */
export function defaultRemoteRoot(platform: DebugPlatform, os: ContainerOs): string {
  if (os === 'windows') return 'C:\\app';
  return platform === 'node' ? '/usr/src/app' : '/app';
}

/** Joins path parts the container's way. */
export function containerJoin(os: ContainerOs, ...parts: string[]): string {
  if (os === 'windows') return parts.map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, '') : p.replace(/^[\\/]+|[\\/]+$/g, '').replace(/\//g, '\\'))).filter(Boolean).join('\\');
  return parts.map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, ''))).filter(Boolean).join('/') || '/';
}

/**
 * Maps a file under `localRoot` to its place under `remoteRoot` (what the debugger's path mapping
 * does for breakpoints). Windows paths compare case-insensitively. Undefined when outside localRoot.
 */
export function toRemotePath(localFile: string, localRoot: string, remoteRoot: string, os: ContainerOs, hostOs: ContainerOs = 'linux'): string | undefined {
  const norm = (p: string) => (hostOs === 'windows' ? p.replace(/\\/g, '/').toLowerCase() : p).replace(/\/+$/, '');
  const file = hostOs === 'windows' ? localFile.replace(/\\/g, '/') : localFile;
  const root = norm(localRoot);
  const cmp = hostOs === 'windows' ? file.toLowerCase() : file;
  if (cmp !== root && !cmp.startsWith(`${root}/`)) return undefined;
  const rel = file.slice(root.length).replace(/^\/+/, '');
  return rel ? containerJoin(os, remoteRoot, rel) : remoteRoot;
}

function loopbackPort(port: number): PortMapping {
  return { hostIp: '127.0.0.1', hostPort: port, containerPort: port, protocol: 'tcp' };
}

export function planNode(cfg: SiloDebugConfiguration, ctx: PlanContext, extra: PortMapping[] = []): DebugPlan {
  const os = cfg.os ?? ctx.hostOs;
  const port = cfg.node?.inspectPort ?? 9229;
  const localRoot = cfg.node?.localRoot ?? ctx.workspaceFolder;
  const remoteRoot = cfg.node?.remoteRoot ?? defaultRemoteRoot('node', os);
  const program = cfg.node?.program ?? 'index.js';
  const binds: BindMount[] = cfg.node?.mountWorkspace === false ? [] : [{ source: localRoot, target: remoteRoot, readonly: true }];
  return {
    create: {
      image: cfg.image,
      name: cfg.containerName ?? ctx.containerName,
      cmd: ['node', `--inspect=0.0.0.0:${port}`, program],
      workingDir: remoteRoot,
      env: cfg.env,
      binds,
      ports: [loopbackPort(port), ...extra],
      isolation: cfg.isolation,
      labels: { 'silo.debug': 'node' },
    },
    debugger: {
      type: 'pwa-node',
      request: 'attach',
      name: cfg.name,
      address: '127.0.0.1',
      port,
      localRoot,
      remoteRoot,
      // The container may still be starting node when the debugger first knocks.
      timeout: 20000,
      continueOnAttach: true,
      skipFiles: ['<node_internals>/**'],
    },
  };
}

export function planNetCore(cfg: SiloDebugConfiguration, ctx: PlanContext, extra: PortMapping[] = []): DebugPlan {
  const os = cfg.os ?? ctx.hostOs;
  const vsdbg = cfg.netCore?.vsdbgPath;
  if (!vsdbg) throw new Error('no vsdbg folder is set for .NET debugging: set netCore.vsdbgPath (or silo.debug.vsdbgPath) to a folder holding vsdbg');
  const remoteRoot = cfg.netCore?.remoteRoot ?? defaultRemoteRoot('netCore', os);
  const debuggerDir = os === 'windows' ? 'C:\\remote_debugger' : '/remote_debugger';
  const appOutput = cfg.netCore?.appOutput ?? containerJoinHost(ctx.workspaceFolder, 'bin', 'Debug');
  const name = cfg.containerName ?? ctx.containerName;
  return {
    create: {
      image: cfg.image,
      name,
      // An idle container the debugger launches the app in (Container Tools' netCore helper).
      entrypoint: os === 'windows' ? ['cmd.exe', '/C', 'ping -t localhost > NUL'] : ['/bin/sh', '-c', 'while :; do sleep 3600; done'],
      workingDir: remoteRoot,
      env: [...(cfg.env ?? []), 'DOTNET_USE_POLLING_FILE_WATCHER=1', 'ASPNETCORE_ENVIRONMENT=Development'],
      binds: [
        { source: vsdbg, target: debuggerDir, readonly: true },
        { source: appOutput, target: remoteRoot, readonly: true },
      ],
      ports: extra,
      isolation: cfg.isolation,
      labels: { 'silo.debug': 'netCore' },
    },
    debugger: {
      type: 'coreclr',
      request: 'launch',
      name: cfg.name,
      program: 'dotnet',
      args: [containerJoin(os, remoteRoot, cfg.netCore?.dll ?? 'app.dll')],
      cwd: remoteRoot,
      sourceFileMap: { [remoteRoot]: ctx.workspaceFolder },
      pipeTransport: {
        pipeProgram: ctx.siloCommand[0],
        pipeArgs: [...ctx.siloCommand.slice(1), 'exec', '-i', name],
        pipeCwd: ctx.workspaceFolder,
        debuggerPath: os === 'windows' ? 'C:\\remote_debugger\\vsdbg.exe' : '/remote_debugger/vsdbg',
        quoteArgs: false,
      },
    },
  };
}

export function planPython(cfg: SiloDebugConfiguration, ctx: PlanContext, extra: PortMapping[] = []): DebugPlan {
  const os = cfg.os ?? ctx.hostOs;
  const debugpy = cfg.python?.debugpyPath;
  if (!debugpy) throw new Error('no debugpy folder is set for Python debugging: set python.debugpyPath (or silo.debug.debugpyPath) to the debugpy package folder');
  const port = cfg.python?.port ?? 5678;
  const localRoot = cfg.python?.localRoot ?? ctx.workspaceFolder;
  const remoteRoot = cfg.python?.remoteRoot ?? defaultRemoteRoot('python', os);
  const debugpyDir = os === 'windows' ? 'C:\\debugpy' : '/debugpy';
  const python = os === 'windows' ? 'python.exe' : 'python3';
  return {
    create: {
      image: cfg.image,
      name: cfg.containerName ?? ctx.containerName,
      cmd: [python, '-m', 'debugpy', '--listen', `0.0.0.0:${port}`, '--wait-for-client', cfg.python?.program ?? 'app.py'],
      workingDir: remoteRoot,
      env: [...(cfg.env ?? []), `PYTHONPATH=${debugpyDir}`],
      binds: [
        // The debugpy package folder (pip's layout, pydevd vendored inside) is mounted as <dir>/debugpy;
        // a folder holding debugpy and what it imports (Debian's dist-packages, where pydevd is its own
        // package) is mounted as <dir>. Either way `python -m debugpy` finds it on PYTHONPATH.
        { source: debugpy, target: isDebugpyPackage(debugpy) ? containerJoin(os, debugpyDir, 'debugpy') : debugpyDir, readonly: true },
        { source: localRoot, target: remoteRoot, readonly: true },
      ],
      ports: [loopbackPort(port), ...extra],
      isolation: cfg.isolation,
      labels: { 'silo.debug': 'python' },
    },
    debugger: {
      type: 'debugpy',
      request: 'attach',
      name: cfg.name,
      connect: { host: '127.0.0.1', port },
      pathMappings: [{ localRoot, remoteRoot }],
      justMyCode: true,
    },
  };
}

function isDebugpyPackage(folder: string): boolean {
  return /(^|[\\/])debugpy[\\/]*$/.test(folder);
}

function containerJoinHost(root: string, ...parts: string[]): string {
  const sep = root.includes('\\') && !root.includes('/') ? '\\' : '/';
  return [root.replace(/[\\/]+$/, ''), ...parts].join(sep);
}

/** Fills in what an empty launch.json offers (provideDebugConfigurations). */
export function initialConfigurations(image = 'node:20'): SiloDebugConfiguration[] {
  return [
    {
      type: 'silo',
      request: 'launch',
      name: 'Silo: Node.js in a container',
      image,
      platform: 'node',
      node: { program: 'index.js', inspectPort: 9229 },
    },
  ];
}

export function plan(cfg: SiloDebugConfiguration, ctx: PlanContext, extra: PortMapping[] = []): DebugPlan {
  if (!cfg.image) throw new Error('the silo launch configuration has no "image": name the image to run the app in');
  switch (cfg.platform ?? 'node') {
    case 'node':
      return planNode(cfg, ctx, extra);
    case 'netCore':
      return planNetCore(cfg, ctx, extra);
    case 'python':
      return planPython(cfg, ctx, extra);
    default:
      throw new Error(`the silo launch configuration's platform "${String(cfg.platform)}" is unknown: use node, netCore or python`);
  }
}
