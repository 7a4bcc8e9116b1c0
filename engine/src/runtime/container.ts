// A container's record: what it was created from, how it runs, and its state. Stored atomically as
// containers/<id>/container.json; the monitor's exit record is the truth about a finished process.
import { randomBytes } from 'node:crypto';
import { humanDuration } from '../protocol/format';
import type { ContainerSpec, ExitStatus } from './runtime';

export { humanDuration };

/** Docker's states; 'removing' is transient while rm runs. */
export type ContainerStatus = 'created' | 'running' | 'exited' | 'removing' | 'dead';

export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  monitorPid: number;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  oomKilled: boolean;
  error: string;
  restartCount: number;
}

export interface ContainerRecord {
  id: string;
  name: string;
  created: string;
  /** The image reference the user gave, and what it resolved to. */
  image: string;
  imageId: string;
  /** The top layer's chain ID: the parent of the container's writable snapshot. */
  parentChainID?: string;
  /** What the user asked for, in Docker's words (shown by inspect; restart reuses it). */
  config: {
    cmd: string[];
    entrypoint: string[];
    env: string[];
    workingDir: string;
    user: string;
    tty: boolean;
    openStdin: boolean;
    labels: Record<string, string>;
  };
  hostConfig: {
    binds: string[];
    autoRemove: boolean;
    logMaxSize?: number;
    logMaxFiles?: number;
  };
  spec: ContainerSpec;
  state: ContainerState;
}

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

export function initialState(): ContainerState {
  return {
    status: 'created',
    pid: 0,
    monitorPid: 0,
    startedAt: '0001-01-01T00:00:00Z',
    finishedAt: '0001-01-01T00:00:00Z',
    exitCode: 0,
    oomKilled: false,
    error: '',
    restartCount: 0,
  };
}

/** The monitor's pid is kept: removal waits for that process to be gone (it holds the root mount). */
export function exitedState(state: ContainerState, exit: ExitStatus): ContainerState {
  return { ...state, status: 'exited', pid: 0, exitCode: exit.exitCode, oomKilled: exit.oomKilled, finishedAt: exit.finishedAt };
}

// Docker-style generated names (adjective_surname), short lists: collisions retry with a suffix.
const ADJECTIVES = ['agile', 'bold', 'brave', 'calm', 'clever', 'eager', 'fond', 'gentle', 'happy', 'keen', 'lucid', 'merry', 'nifty', 'proud', 'quiet', 'sharp', 'swift', 'tender', 'upbeat', 'vivid', 'wise', 'zen'];
const NAMES = ['babbage', 'curie', 'dijkstra', 'euler', 'feynman', 'gauss', 'hopper', 'hypatia', 'knuth', 'lamport', 'lovelace', 'noether', 'pascal', 'ritchie', 'shannon', 'thompson', 'turing', 'wozniak'];

export function generateName(taken: (name: string) => boolean): string {
  for (let i = 0; ; i++) {
    const pick = <T>(a: T[]) => a[randomBytes(1)[0] % a.length];
    const name = `${pick(ADJECTIVES)}_${pick(NAMES)}${i > 10 ? i : ''}`;
    if (!taken(name)) return name;
  }
}

/** Docker's rule for container names. */
export const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** "Up 3 minutes", "Exited (0) 2 seconds ago", "Created": the STATUS column of `ps`. */
export function humanStatus(state: ContainerState, now = Date.now()): string {
  switch (state.status) {
    case 'running':
      return `Up ${humanDuration(now - Date.parse(state.startedAt))}`;
    case 'exited':
      return `Exited (${state.exitCode}) ${humanDuration(now - Date.parse(state.finishedAt))} ago`;
    case 'created':
      return 'Created';
    case 'removing':
      return 'Removal In Progress';
    default:
      return 'Dead';
  }
}
