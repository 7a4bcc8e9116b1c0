// Before anything touches libuv's thread pool: blocking HCS calls run there on Windows (hcs.md §8),
// and the default of 4 threads would let a few slow calls stall every file operation.
process.env.UV_THREADPOOL_SIZE ??= '64';

// `silo`: docker-compatible verbs over the engine protocol. Errors end as one line on stderr with
// what to do, and docker's exit codes (125 when `run` itself fails; the container's code otherwise).
import { ErrorCodes as JsonRpcErrorCodes, ResponseError } from 'vscode-jsonrpc';
import { SiloError } from '../errors';
import type { ErrorData } from '../protocol';
import { defaultDataRoot, type ConnectOptions } from '../rpc/connect';
import { buildCommand } from './buildCommand';
import { Cli, processTerminal, type Command, type Terminal } from './cli';
import { containerCommands } from './containerCommands';
import { helpText, parseFlags } from './flags';
import { imageCommands } from './imageCommands';
import { systemCommands } from './systemCommands';
import { dockerEnv } from './dockerEnvCommand';

const commands: Command[] = [...containerCommands, ...imageCommands, buildCommand, ...systemCommands, dockerEnv];

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 3;
  return (
    'Usage:  silo [--root DIR] COMMAND\n\nBuild and run containers without a Docker daemon.\n\nCommands:\n' +
    commands.map((c) => `  ${c.name.padEnd(width)}${c.description}`).join('\n') +
    "\n\nRun 'silo COMMAND --help' for more information on a command.\n"
  );
}

/** One line for the user: the message, then what to do. */
export function errorLine(err: unknown): { line: string; exitCode?: number } {
  if (err instanceof SiloError) return { line: err.line, exitCode: (err as { exitCode?: number }).exitCode };
  // The engine bundle (cli/engineBundle.ts) has its own copy of the SiloError class.
  if (err instanceof Error && err.name === 'SiloError' && typeof (err as SiloError).line === 'string') {
    return { line: (err as SiloError).line, exitCode: (err as { exitCode?: number }).exitCode };
  }
  if (err instanceof ResponseError && err.code === JsonRpcErrorCodes.PendingResponseRejected) {
    return { line: 'the engine stopped while handling this request: run the command again (the engine restarts), and see engine.log in the data root if it recurs' };
  }
  if (err instanceof ResponseError) {
    const data = err.data as ErrorData | undefined;
    return { line: data?.hint ? `${err.message}: ${data.hint}` : err.message, exitCode: data?.exitCode };
  }
  return { line: err instanceof Error ? err.message : String(err) };
}

export function main(argv: string[]): Promise<number> {
  return runCli(argv, processTerminal());
}

export interface RunCliOptions {
  /** The data root when the command runs inside an engine (a relayed `silo` front): the engine's own. */
  root?: string;
  connect?: ConnectOptions;
  /** Relayed: called instead of running a command that needs a process of its own (Command.ownProcess). */
  handOver?: () => void;
}

/** Runs one `silo` command line for a user at `term`; returns the exit code. */
export async function runCli(argv: string[], term: Terminal, opts: RunCliOptions = {}): Promise<number> {
  let root = opts.root ?? defaultDataRoot(term.env);
  let i = 0;
  for (; i < argv.length; i++) {
    if (argv[i] === '--root' && argv[i + 1]) root = argv[++i];
    else if (argv[i].startsWith('--root=')) root = argv[i].slice(7);
    else break;
  }
  const rest = argv.slice(i);
  if (!rest.length || rest[0] === '--help' || rest[0] === 'help' || rest[0] === '-h') {
    term.out.write(usage());
    return rest.length ? 0 : 1;
  }
  let name = rest[0];
  let args = rest.slice(1);
  if (name === 'system' && rest[1]) {
    name = `system ${rest[1]}`;
    args = rest.slice(2);
  } else if ((name === 'container' || name === 'image') && rest[1]) {
    // `silo container ls`, `silo image rm` ...: docker's management-command aliases.
    const alias: Record<string, string> = { ls: name === 'image' ? 'images' : 'ps', list: 'ps', rm: name === 'image' ? 'rmi' : 'rm', inspect: 'inspect', prune: 'system prune' };
    name = alias[rest[1]] ?? rest[1];
    args = rest.slice(2);
  }
  if (name === 'engine' && opts.root !== undefined) {
    // Relayed into a running engine: the `silo` front runs `silo engine` with node itself.
    term.err.write(`silo: an engine is already running for ${root}\n`);
    return 1;
  }
  if (name === 'engine') {
    // `silo engine --root DIR` is how connect.ts starts it.
    const r = args.indexOf('--root');
    if (r !== -1 && args[r + 1]) {
      root = args[r + 1];
      args = args.filter((_, k) => k !== r && k !== r + 1);
    }
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    term.err.write(`silo: '${name}' is not a silo command.\nSee 'silo --help'\n`);
    return 1;
  }
  if (args.includes('--help') && !(cmd.stopAtPositional && args.indexOf('--help') > 0)) {
    term.out.write(helpText(cmd.name, cmd.usage, cmd.description, cmd.flags));
    return 0;
  }
  const cli = new Cli(root, term, opts.connect);
  try {
    const parsed = parseFlags(cmd.flags, args, { stopAtPositional: cmd.stopAtPositional, command: cmd.name });
    if (cmd.minArgs !== undefined && parsed.args.length < cmd.minArgs) {
      throw new SiloError('InvalidArgument', `"silo ${cmd.name}" requires at least ${cmd.minArgs} argument${cmd.minArgs > 1 ? 's' : ''}`, `usage: silo ${cmd.name} ${cmd.usage}`);
    }
    if (cmd.maxArgs !== undefined && parsed.args.length > cmd.maxArgs) {
      throw new SiloError('InvalidArgument', `"silo ${cmd.name}" accepts ${cmd.maxArgs === 0 ? 'no arguments' : `at most ${cmd.maxArgs} argument${cmd.maxArgs > 1 ? 's' : ''}`}`, `usage: silo ${cmd.name} ${cmd.usage}`);
    }
    if (opts.handOver && cmd.ownProcess?.(parsed)) {
      opts.handOver();
      return 0;
    }
    return await cmd.run(cli, parsed);
  } catch (err) {
    const { line, exitCode } = errorLine(err);
    term.err.write(`silo: ${line}\n`);
    return exitCode ?? cmd.errorExitCode ?? 1;
  } finally {
    cli.dispose();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // The engine process keeps its server; every other command ends once its output is flushed.
    },
    (err) => {
      process.stderr.write(`silo: ${errorLine(err).line}\n`);
      process.exitCode = 1;
    },
  );
}
