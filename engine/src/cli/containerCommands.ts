// Container verbs with docker's flags and output: run, create, start, ps, logs, exec, stop, kill,
// restart, rm, wait, diff.
import { readFileSync } from 'node:fs';
import * as P from '../protocol';
import { parseBindSpec, parseCpus, parseEnv, parseEnvFile, parseMemory, parsePortSpec } from '../runtime/options';
import { invalidArgument } from '../errors';
import type { Cli, Command } from './cli';
import { bool, list, str, type FlagSpec, type Parsed } from './flags';
import { ago, commandColumn, formatRows, goTime, humanBinary, portsColumn, shortId, table } from './format';
import { CONTAINER_FILTERS } from '../service/containerViews';
import { parseFilterFlags } from '../service/filters';

const createFlags: FlagSpec[] = [
  { name: 'name', kind: 'string', help: 'Assign a name to the container' },
  { name: 'env', short: 'e', kind: 'list', help: 'Set environment variables' },
  { name: 'env-file', kind: 'list', help: 'Read in a file of environment variables' },
  { name: 'workdir', short: 'w', kind: 'string', help: 'Working directory inside the container' },
  { name: 'user', short: 'u', kind: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'volume', short: 'v', kind: 'list', help: 'Bind mount a host path: /host:/container[:ro]' },
  { name: 'publish', short: 'p', kind: 'list', help: "Publish a container's port to the host: [ip:]hostPort:containerPort" },
  { name: 'memory', short: 'm', kind: 'string', help: 'Memory limit (e.g. 512m)' },
  { name: 'cpus', kind: 'string', help: 'Number of CPUs' },
  { name: 'pids-limit', kind: 'string', help: 'Tune container pids limit' },
  { name: 'isolation', kind: 'string', help: 'Container isolation technology (process; hyperv on Windows)' },
  { name: 'interactive', short: 'i', kind: 'bool', help: 'Keep STDIN open even if not attached' },
  { name: 'tty', short: 't', kind: 'bool', help: 'Allocate a pseudo-TTY' },
  { name: 'rm', kind: 'bool', help: 'Automatically remove the container when it exits' },
  { name: 'entrypoint', kind: 'string', help: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'hostname', short: 'h', kind: 'string', help: 'Container host name' },
  { name: 'label', short: 'l', kind: 'list', help: 'Set meta data on a container' },
  { name: 'log-opt', kind: 'list', help: 'Log driver options: max-size=10m, max-file=3' },
];

function createParams(cli: Cli, p: Parsed): P.ContainerCreateParams {
  const [image, ...cmd] = p.args;
  if (!image) throw invalidArgument('"run" requires at least 1 argument', "see 'silo run --help'");
  const env = [
    ...list(p, 'env-file').flatMap((f) => {
      let text: string;
      try {
        text = readFileSync(cli.resolvePath(f), 'utf8');
      } catch {
        throw invalidArgument(`open ${f}: no such file or directory`, 'check the --env-file path');
      }
      return parseEnvFile(text, cli.env);
    }),
    ...parseEnv(list(p, 'env'), cli.env),
  ];
  const logOpts = Object.fromEntries(list(p, 'log-opt').map((o) => o.split('=', 2) as [string, string]));
  for (const k of Object.keys(logOpts)) {
    if (k !== 'max-size' && k !== 'max-file') throw invalidArgument(`unknown log opt '${k}'`, 'use max-size or max-file');
  }
  const isolation = str(p, 'isolation');
  if (isolation && !['process', 'hyperv', 'default'].includes(isolation)) {
    throw invalidArgument(`invalid isolation "${isolation}"`, 'use process or hyperv');
  }
  const labels = Object.fromEntries(list(p, 'label').map((l) => [l.split('=', 1)[0], l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
  const entrypoint = str(p, 'entrypoint');
  return {
    image,
    cmd: cmd.length ? cmd : undefined,
    entrypoint: entrypoint !== undefined ? (entrypoint ? [entrypoint] : []) : undefined,
    name: str(p, 'name'),
    env,
    workingDir: str(p, 'workdir'),
    user: str(p, 'user'),
    hostname: str(p, 'hostname'),
    tty: bool(p, 'tty'),
    openStdin: bool(p, 'interactive'),
    labels,
    binds: list(p, 'volume').map(parseBindSpec),
    ports: list(p, 'publish').map(parsePortSpec),
    memoryBytes: str(p, 'memory') ? parseMemory(str(p, 'memory')!) : undefined,
    nanoCpus: str(p, 'cpus') ? parseCpus(str(p, 'cpus')!) : undefined,
    pidsLimit: str(p, 'pids-limit') ? Number(str(p, 'pids-limit')) : undefined,
    isolation: isolation as P.ContainerCreateParams['isolation'],
    autoRemove: bool(p, 'rm'),
    logMaxSize: logOpts['max-size'] ? parseMemoryLoose(logOpts['max-size']) : undefined,
    logMaxFiles: logOpts['max-file'] ? Number(logOpts['max-file']) : undefined,
  };
}

function parseMemoryLoose(v: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(v);
  if (!m) throw invalidArgument(`invalid max-size "${v}"`, 'use a size such as 10m');
  return Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[m[2].toLowerCase()];
}

interface FollowOptions {
  timestamps?: boolean;
  tail?: number;
  since?: string;
  until?: string;
  follow?: boolean;
  awaitStart?: boolean;
  /** In: resume after this line. Out: the last line printed, kept current as lines arrive. */
  position?: { cursor?: string };
}

/** Prints a container's log (following it until it has exited, by default). */
async function followLogs(cli: Cli, id: string, opts: FollowOptions) {
  const conn = await cli.engine();
  const position = opts.position ?? {};
  const token = cli.onLines((lines) => {
    cli.printLines(lines, opts.timestamps);
    if (lines.length) position.cursor = lines[lines.length - 1].cursor;
  });
  try {
    await conn.sendRequest(P.ContainerLogsRequest.type, {
      id, stream: token, follow: opts.follow ?? true, tail: position.cursor ? undefined : opts.tail, since: opts.since, until: opts.until,
      cursor: position.cursor, awaitStart: opts.awaitStart,
    });
  } finally {
    cli.offLines(token);
  }
}

const run: Command = {
  name: 'run',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  description: 'Create and run a new container from an image',
  flags: [...createFlags, { name: 'detach', short: 'd', kind: 'bool', help: 'Run container in background and print container ID' }],
  stopAtPositional: true,
  minArgs: 1,
  errorExitCode: 125,
  async run(cli, p) {
    const params = createParams(cli, p);
    const conn = await cli.engine();
    const { id } = await conn.sendRequest(P.ContainerCreateRequest.type, params);
    if (bool(p, 'detach')) {
      await conn.sendRequest(P.ContainerStartRequest.type, { id });
      cli.out.write(id + '\n');
      return 0;
    }
    // Subscribe to the log and the exit BEFORE starting, so nothing can be missed (and --rm waits for us).
    const logs = followLogs(cli, id, { awaitStart: true });
    // With --rm, docker's CLI returns once the container is gone: a `ps` right after shows nothing.
    const exit = conn.sendRequest(P.ContainerWaitRequest.type, { id, removed: params.autoRemove });
    // If start fails these two never settle normally; they are rejected when the connection closes.
    logs.catch(() => undefined);
    exit.catch(() => undefined);
    await conn.sendRequest(P.ContainerStartRequest.type, { id, consoleSize: params.tty ? cli.consoleSize() : undefined });
    let stopInput = () => {};
    if (params.openStdin || params.tty) {
      const token = `attach-${id}`;
      void conn.sendRequest(P.ContainerAttachRequest.type, { id, stream: token }).catch(() => undefined);
      stopInput = cli.forwardInput(token, { tty: !!params.tty, stdin: !!params.openStdin });
    }
    try {
      const [status] = await Promise.all([exit, logs]);
      return status.exitCode;
    } finally {
      stopInput();
    }
  },
};

const create: Command = {
  name: 'create',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  description: 'Create a new container',
  flags: createFlags,
  stopAtPositional: true,
  minArgs: 1,
  errorExitCode: 125,
  async run(cli, p) {
    const { id } = await (await cli.engine()).sendRequest(P.ContainerCreateRequest.type, createParams(cli, p));
    cli.out.write(id + '\n');
    return 0;
  },
};

const start: Command = {
  name: 'start',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Start one or more stopped containers',
  flags: [{ name: 'attach', short: 'a', kind: 'bool', help: "Attach STDOUT/STDERR and wait for the container's exit" }],
  minArgs: 1,
  async run(cli, p) {
    const conn = await cli.engine();
    if (bool(p, 'attach')) {
      const id = p.args[0];
      const info = (await conn.sendRequest(P.ContainerInspectRequest.type, { id })) as { Id: string };
      const logs = followLogs(cli, info.Id, { tail: 0, awaitStart: true });
      const exit = conn.sendRequest(P.ContainerWaitRequest.type, { id: info.Id });
      logs.catch(() => undefined);
      exit.catch(() => undefined);
      await conn.sendRequest(P.ContainerStartRequest.type, { id: info.Id });
      const [status] = await Promise.all([exit, logs]);
      return status.exitCode;
    }
    return eachContainer(cli, p.args, async (id) => void (await conn.sendRequest(P.ContainerStartRequest.type, { id })));
  },
};

/** Runs `fn` for each named container, printing the name on success and errors per container (docker's way). */
async function eachContainer(cli: Cli, ids: string[], fn: (id: string) => Promise<void>): Promise<number> {
  let failed = 0;
  for (const id of ids) {
    try {
      await fn(id);
      cli.out.write(id + '\n');
    } catch (err) {
      failed++;
      cli.err.write(`Error: ${(err as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

const ps: Command = {
  name: 'ps',
  usage: '[OPTIONS]',
  description: 'List containers',
  flags: [
    { name: 'all', short: 'a', kind: 'bool', help: 'Show all containers (default shows just running)' },
    { name: 'quiet', short: 'q', kind: 'bool', help: 'Only display container IDs' },
    { name: 'no-trunc', kind: 'bool', help: "Don't truncate output" },
    { name: 'filter', short: 'f', kind: 'list', help: 'Filter output based on conditions provided (id, name, status, label, ancestor, exited, before, since)' },
    { name: 'last', short: 'n', kind: 'string', help: 'Show n last created containers (includes all states)' },
    { name: 'latest', short: 'l', kind: 'bool', help: 'Show the latest created container (includes all states)' },
    { name: 'format', kind: 'string', help: 'Format output using a custom template: \'table\', \'table TEMPLATE\', \'json\' or a Go template' },
  ],
  maxArgs: 0,
  async run(cli, p) {
    const filters = Object.fromEntries(parseFilterFlags(list(p, 'filter'), CONTAINER_FILTERS));
    const lastText = str(p, 'last');
    const last = bool(p, 'latest') ? 1 : lastText === undefined ? -1 : Number(lastText);
    if (!Number.isInteger(last) || last < -1) throw invalidArgument(`invalid value "${lastText}" for flag -n: must be a whole number`);
    let rows = await (await cli.engine()).sendRequest(P.ContainerListRequest.type, { all: bool(p, 'all') || last > -1, filters });
    if (last > -1) rows = rows.slice(0, last); // the engine lists the newest first, as docker does
    const full = bool(p, 'no-trunc');
    const format = str(p, 'format');
    if (format && format.trim() !== 'table' && !bool(p, 'quiet')) {
      cli.out.write(formatRows(format, rows.map((r) => ({
        ID: full ? r.id : shortId(r.id), Image: r.image, Command: full ? JSON.stringify(r.command) : commandColumn(r.command),
        CreatedAt: goTime(r.created), RunningFor: ago(r.created), Ports: portsColumn(r.ports), State: r.state, Status: r.status,
        Names: r.name, Labels: '', Mounts: '', Networks: '',
      })), {
        ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
        State: 'STATE', Status: 'STATUS', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS',
      }));
      return 0;
    }
    if (bool(p, 'quiet')) {
      for (const r of rows) cli.out.write((full ? r.id : shortId(r.id)) + '\n');
      return 0;
    }
    cli.out.write(
      table(
        ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
        rows.map((r) => [full ? r.id : shortId(r.id), r.image, full ? JSON.stringify(r.command) : commandColumn(r.command), ago(r.created), r.status, portsColumn(r.ports), r.name]),
      ),
    );
    return 0;
  },
};

const logs: Command = {
  name: 'logs',
  usage: '[OPTIONS] CONTAINER',
  description: 'Fetch the logs of a container',
  flags: [
    { name: 'follow', short: 'f', kind: 'bool', help: 'Follow log output' },
    { name: 'timestamps', short: 't', kind: 'bool', help: 'Show timestamps' },
    { name: 'since', kind: 'string', help: 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)' },
    { name: 'until', kind: 'string', help: 'Show logs before a timestamp or relative' },
    { name: 'tail', short: 'n', kind: 'string', help: 'Number of lines to show from the end of the logs (default "all")' },
  ],
  minArgs: 1,
  maxArgs: 1,
  ownProcess: (p) => bool(p, 'follow'),
  async run(cli, p) {
    const tailFlag = str(p, 'tail');
    const tail = tailFlag === undefined || tailFlag === 'all' ? undefined : Number(tailFlag);
    if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) throw invalidArgument(`invalid --tail "${tailFlag}"`, 'give a number of lines or "all"');
    const opts = { follow: bool(p, 'follow'), timestamps: bool(p, 'timestamps'), since: str(p, 'since'), until: str(p, 'until'), tail, position: {} };
    // Following survives an engine restart: reconnect and resume after the last line printed.
    for (let attempt = 0; ; attempt++) {
      try {
        await followLogs(cli, p.args[0], opts);
        return 0;
      } catch (err) {
        const lost = /connection (got disposed|is closed)|ECONNRESET|EPIPE|socket/i.test(String((err as Error).message));
        if (!opts.follow || !lost || attempt > 20) throw err;
        cli.reset();
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  },
};

const exec: Command = {
  name: 'exec',
  usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  description: 'Execute a command in a running container',
  flags: [
    { name: 'interactive', short: 'i', kind: 'bool', help: 'Keep STDIN open even if not attached' },
    { name: 'tty', short: 't', kind: 'bool', help: 'Allocate a pseudo-TTY' },
    { name: 'env', short: 'e', kind: 'list', help: 'Set environment variables' },
    { name: 'user', short: 'u', kind: 'string', help: 'Username or UID' },
    { name: 'workdir', short: 'w', kind: 'string', help: 'Working directory inside the container' },
    { name: 'detach', short: 'd', kind: 'bool', help: 'Detached mode: run command in the background' },
  ],
  stopAtPositional: true,
  minArgs: 2,
  errorExitCode: 126,
  async run(cli, p) {
    const [id, ...cmd] = p.args;
    const conn = await cli.engine();
    const tty = bool(p, 'tty');
    const stdin = bool(p, 'interactive');
    const token = cli.onLines((lines) => cli.printLines(lines));
    const result = conn.sendRequest(P.ExecRequest.type, {
      id, stream: token, cmd, tty, stdin, env: parseEnv(list(p, 'env'), cli.env), user: str(p, 'user'), workingDir: str(p, 'workdir'),
      consoleSize: tty ? cli.consoleSize() : undefined,
    });
    if (bool(p, 'detach')) {
      cli.offLines(token);
      return 0;
    }
    const stopInput = cli.forwardInput(token, { tty, stdin });
    try {
      return (await result).exitCode;
    } finally {
      stopInput();
      cli.offLines(token);
    }
  },
};

const stop: Command = {
  name: 'stop',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Stop one or more running containers (the stop signal, then SIGKILL after the timeout)',
  flags: [{ name: 'time', short: 't', kind: 'string', help: 'Seconds to wait before killing the container (default 10)' }],
  minArgs: 1,
  async run(cli, p) {
    const conn = await cli.engine();
    const timeout = str(p, 'time') !== undefined ? Number(str(p, 'time')) : undefined;
    return eachContainer(cli, p.args, async (id) => void (await conn.sendRequest(P.ContainerStopRequest.type, { id, timeout })));
  },
};

const restart: Command = {
  name: 'restart',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Restart one or more containers',
  flags: [{ name: 'time', short: 't', kind: 'string', help: 'Seconds to wait before killing the container (default 10)' }],
  minArgs: 1,
  async run(cli, p) {
    const conn = await cli.engine();
    const timeout = str(p, 'time') !== undefined ? Number(str(p, 'time')) : undefined;
    return eachContainer(cli, p.args, async (id) => void (await conn.sendRequest(P.ContainerRestartRequest.type, { id, timeout })));
  },
};

const kill: Command = {
  name: 'kill',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Kill one or more running containers',
  flags: [{ name: 'signal', short: 's', kind: 'string', help: 'Signal to send to the container (default "KILL")' }],
  minArgs: 1,
  async run(cli, p) {
    const conn = await cli.engine();
    return eachContainer(cli, p.args, async (id) => void (await conn.sendRequest(P.ContainerKillRequest.type, { id, signal: str(p, 'signal') ?? 'KILL' })));
  },
};

const rm: Command = {
  name: 'rm',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Remove one or more containers',
  flags: [{ name: 'force', short: 'f', kind: 'bool', help: 'Force the removal of a running container (uses SIGKILL)' }],
  minArgs: 1,
  async run(cli, p) {
    const conn = await cli.engine();
    return eachContainer(cli, p.args, async (id) => void (await conn.sendRequest(P.ContainerRemoveRequest.type, { id, force: bool(p, 'force') })));
  },
};

const wait: Command = {
  name: 'wait',
  usage: 'CONTAINER [CONTAINER...]',
  description: 'Block until one or more containers stop, then print their exit codes',
  flags: [],
  minArgs: 1,
  async run(cli, p) {
    const conn = await cli.engine();
    let failed = 0;
    for (const id of p.args) {
      try {
        cli.out.write(`${(await conn.sendRequest(P.ContainerWaitRequest.type, { id })).exitCode}\n`);
      } catch (err) {
        failed++;
        cli.err.write(`Error: ${(err as Error).message}\n`);
      }
    }
    return failed ? 1 : 0;
  },
};

const diff: Command = {
  name: 'diff',
  usage: 'CONTAINER',
  description: "Inspect changes to files or directories on a container's filesystem",
  flags: [],
  minArgs: 1,
  maxArgs: 1,
  async run(cli, p) {
    const changes = await (await cli.engine()).sendRequest(P.ContainerDiffRequest.type, { id: p.args[0] });
    for (const c of changes) cli.out.write(`${c.kind} ${c.path}\n`);
    return 0;
  },
};

const commit: Command = {
  name: 'commit',
  usage: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  description: "Create a new image from a container's changes",
  flags: [
    { name: 'author', short: 'a', kind: 'string', help: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { name: 'change', short: 'c', kind: 'list', help: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', kind: 'string', help: 'Commit message' },
  ],
  minArgs: 1,
  maxArgs: 2,
  async run(cli, p) {
    const { id } = await (await cli.engine()).sendRequest(P.ContainerCommitRequest.type, {
      id: p.args[0], ref: p.args[1], message: str(p, 'message'), author: str(p, 'author'), changes: list(p, 'change'),
    });
    cli.out.write(id + '\n');
    return 0;
  },
};

const stats: Command = {
  name: 'stats',
  usage: '[OPTIONS] [CONTAINER...]',
  description: 'Display a live stream of container(s) resource usage statistics',
  flags: [{ name: 'no-stream', kind: 'bool', help: 'Disable streaming stats and only pull the first result' }],
  async run(cli, p) {
    const conn = await cli.engine();
    for (;;) {
      const rows = await conn.sendRequest(P.ContainerStatsRequest.type, { ids: p.args.length ? p.args : undefined });
      const text = table(
        ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'PIDS'],
        rows.map((r) => [shortId(r.id), r.name, `${r.cpuPercent.toFixed(2)}%`, `${humanBinary(r.memoryUsage)} / ${humanBinary(r.memoryLimit)}`, `${r.memoryLimit ? ((100 * r.memoryUsage) / r.memoryLimit).toFixed(2) : '0.00'}%`, String(r.pids)]),
      );
      if (bool(p, 'no-stream') || !cli.out.isTTY) {
        cli.out.write(text);
        return 0;
      }
      cli.out.write('\x1b[2J\x1b[H' + text);
      await new Promise((r) => setTimeout(r, 500));
    }
  },
};

export const containerCommands: Command[] = [run, create, start, ps, logs, exec, stop, restart, kill, rm, wait, diff, commit, stats];
