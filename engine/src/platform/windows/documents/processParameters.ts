// ProcessParameters (v2; the v1 ProcessConfig has the same names) for HcsCreateProcess.
// Docker's choices (moby libcontainerd/local): a stdout pipe always, stdin when asked for; stderr unless a
// console is emulated (EmulateConsole merges stderr into the console); working directory C:\ by default.
import type { ProcessSpec } from '../../../runtime/runtime';
import { invalidArgument } from '../../../errors';
import { windowsCommandLine } from './commandLine';
import { windowsContainerPath } from './containerPath';

export interface ProcessParameters {
  CommandLine: string;
  WorkingDirectory: string;
  User?: string;
  Environment: Record<string, string>;
  EmulateConsole: boolean;
  CreateStdInPipe: boolean;
  CreateStdOutPipe: boolean;
  CreateStdErrPipe: boolean;
  /** [height, width] */
  ConsoleSize?: [number, number];
}

export interface ProcessOptions {
  /** The image config's ArgsEscaped: args are already one Windows command line. */
  argsEscaped?: boolean;
  /** Initial console size for a terminal. */
  consoleSize?: { height: number; width: number };
}

/** `K=V` strings as a map; Windows names are case-insensitive, so a later `Path=` replaces `PATH=`. */
export function environmentMap(env: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const spelling = new Map<string, string>();
  for (const kv of env) {
    const eq = kv.indexOf('=', 1); // Windows has hidden variables like "=C:"; an empty name is not allowed
    if (eq <= 0) throw invalidArgument(`The environment entry ${JSON.stringify(kv)} is not NAME=value`, 'write it as NAME=value');
    const name = kv.slice(0, eq);
    const key = name.toUpperCase();
    const prev = spelling.get(key);
    if (prev !== undefined) delete out[prev];
    spelling.set(key, name);
    out[name] = kv.slice(eq + 1);
  }
  return out;
}

export function processParameters(proc: ProcessSpec, opts: ProcessOptions = {}): ProcessParameters {
  if (proc.args.length === 0) throw invalidArgument('No command was given for the Windows container', 'set CMD or ENTRYPOINT, or give a command');
  const p: ProcessParameters = {
    CommandLine: windowsCommandLine(proc.args, opts.argsEscaped),
    WorkingDirectory: proc.cwd ? windowsContainerPath(proc.cwd, 'working directory') : 'C:\\',
    Environment: environmentMap(proc.env),
    EmulateConsole: proc.terminal,
    CreateStdInPipe: proc.stdin,
    CreateStdOutPipe: true,
    CreateStdErrPipe: !proc.terminal,
  };
  if (proc.user) p.User = proc.user;
  if (proc.terminal && opts.consoleSize) p.ConsoleSize = [opts.consoleSize.height, opts.consoleSize.width];
  return p;
}
