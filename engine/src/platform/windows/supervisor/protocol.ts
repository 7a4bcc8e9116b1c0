// The engine <-> HCS supervisor protocol: JSON-RPC (vscode-jsonrpc) over one owner-only socket or
// named pipe per data root. The requests mirror runtime/'s Runtime; errors travel as the SiloError's
// kind, message and hint and are rebuilt on the engine's side.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { RequestType, ResponseError } from 'vscode-jsonrpc';
import { SiloError, type ErrorKind } from '../../../errors';
import { rootPipe } from '../../../rpc/paths';
import type { ContainerIO, ContainerSpec, ProcessSpec, Started } from '../../../runtime/runtime';

export interface SiloErrorData {
  kind: ErrorKind;
  hint?: string;
}

export namespace SupervisorStart {
  export const type = new RequestType<{ spec: ContainerSpec; io: ContainerIO }, Started, SiloErrorData>('hcs/start');
}
export namespace SupervisorExec {
  export const type = new RequestType<{ spec: ContainerSpec; execId: string; proc: ProcessSpec; io: ContainerIO }, Started, SiloErrorData>('hcs/exec');
}
export namespace SupervisorDelete {
  export const type = new RequestType<{ id: string }, null, SiloErrorData>('hcs/delete');
}
/** Resolves when the container has exited and its handles are closed. */
export namespace SupervisorWait {
  export const type = new RequestType<{ id: string }, null, SiloErrorData>('hcs/wait');
}

/** The containers the supervisor holds (started, or re-adopted after its own crash). */
export namespace SupervisorList {
  export const type = new RequestType<null, Array<{ id: string; pid: number }>, SiloErrorData>('hcs/list');
}

/** How the supervisor is configured: passed as one JSON argument when the engine starts it. */
export interface SupervisorConfig {
  socket: string;
  libraries?: { computecore?: string; kernel32?: string; vmcompute?: string; computenetwork?: string; ole32?: string };
  network?: { name: string; subnet: string };
  /** The host platform assertCanRunOnThisHost assumes; the contract test on Linux says 'win32'. */
  platform?: NodeJS.Platform;
  /** Exit after this long with no container and no engine connected (default 60 s). */
  idleExitMs?: number;
  /**
   * Where the supervisor records each running container (heldContainers.ts) so that, restarted after
   * its own crash, it re-adopts them; without it containers end with the supervisor.
   */
  stateDir?: string;
}

/** One supervisor per data root: a named pipe on Windows, a socket in the root elsewhere. */
export function supervisorSocket(root: string, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return rootPipe('hcs', root);
  return path.join(root, 'hcs-supervisor.sock');
}

/**
 * The Owner of the compute systems one data root's supervisor creates: unique per root, so that
 * HcsEnumerateComputeSystems finds this root's leftovers and never another root's (hcs.md §4d).
 */
export function supervisorOwner(stateDir: string): string {
  return `silo-${createHash('sha256').update(path.resolve(stateDir).toLowerCase()).digest('hex').slice(0, 12)}`;
}

export function toResponseError(err: unknown): ResponseError<SiloErrorData> {
  if (err instanceof SiloError) return new ResponseError(1, err.message, { kind: err.kind, ...(err.hint ? { hint: err.hint } : {}) });
  return new ResponseError(1, (err as Error)?.message ?? String(err), { kind: 'Internal' });
}

export function fromResponseError(err: unknown): SiloError {
  if (err instanceof ResponseError && err.data && typeof (err.data as SiloErrorData).kind === 'string') {
    const d = err.data as SiloErrorData;
    return new SiloError(d.kind, err.message, d.hint);
  }
  return new SiloError('Unavailable', `The HCS supervisor failed: ${(err as Error)?.message ?? String(err)}`, 'see hcs-supervisor.log in the data root');
}
