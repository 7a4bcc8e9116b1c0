// A `silo-run` task definition (or the Run quick form's answers) turned into the engine's create
// parameters. Docker's option strings are parsed by the engine's own parsers (runtime/options), so
// `"8080:80"` means the same in tasks.json as on the `silo run` command line.
import type { ContainerCreateParams } from '../../../engine/src/protocol';
import { parseBindSpec, parseEnv, parsePortSpec } from '../../../engine/src/runtime/options';

/** The `silo-run` task definition's properties (the manifest's `taskDefinitions` schema). */
export interface RunTaskDefinition {
  type: 'silo-run';
  image: string;
  containerName?: string;
  command?: string[];
  entrypoint?: string[];
  /** Docker `-p` strings: `[ip:]hostPort:containerPort[/proto]`. */
  ports?: string[];
  /** `KEY=VALUE`, or `KEY` to take the value from the editor's environment. */
  env?: string[];
  /** Docker `-v` strings: `hostPath:containerPath[:ro]`; a relative host path is under the workspace folder. */
  volumes?: string[];
  isolation?: 'process' | 'hyperv' | 'default';
  /** Remove the container when it exits (`--rm`). */
  remove?: boolean;
}

function resolveHostPath(p: string, workspaceFolder: string | undefined, sep: string): string {
  const absolute = p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
  if (absolute || !workspaceFolder) return p;
  return `${workspaceFolder.replace(/[\\/]+$/, '')}${sep}${p.replace(/^\.[\\/]/, '')}`;
}

/** Throws the engine's InvalidArgument error (one sentence + hint) on a malformed port or volume. */
export function createParamsFromTask(def: RunTaskDefinition, ctx: { workspaceFolder?: string; env?: Record<string, string | undefined>; sep?: string } = {}): ContainerCreateParams {
  if (!def.image || typeof def.image !== 'string') throw new Error('the silo-run task has no "image": name the image to run, e.g. "busybox:latest"');
  const sep = ctx.sep ?? '/';
  const volumes = (def.volumes ?? []).map((v) => {
    // `./src:/app` — resolve the host side before the engine's parser sees it (it wants absolute paths).
    const idx = v.search(/:(?=[\\/]|[A-Za-z]:)/);
    const spec = idx > 0 ? `${resolveHostPath(v.slice(0, idx), ctx.workspaceFolder, sep)}${v.slice(idx)}` : v;
    return parseBindSpec(spec);
  });
  return {
    image: def.image,
    name: def.containerName || undefined,
    cmd: def.command?.length ? def.command : undefined,
    entrypoint: def.entrypoint?.length ? def.entrypoint : undefined,
    ports: (def.ports ?? []).map(parsePortSpec),
    env: parseEnv(def.env ?? [], ctx.env ?? {}),
    binds: volumes,
    isolation: def.isolation,
    autoRemove: def.remove ?? false,
  };
}
