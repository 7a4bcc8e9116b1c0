// Registry verbs: pull, push, login, logout, with docker's flags and its per-layer progress display
// (one line per layer, redrawn in place on a terminal; phase changes only otherwise).
import { randomBytes } from 'node:crypto';
import { invalidArgument } from '../errors';
import * as P from '../protocol';
import type { Cli, Command, TerminalOutput } from './cli';
import { bool, str } from './flags';
import { humanSize } from './format';
import { layerStatus, PROGRESS_PHASES, PULL_STATUS, PUSH_STATUS } from '../protocol/format';


/** docker's progress bar: "[=====>      ]  1.2MB/3.4MB". */
function bar(current: number, total: number): string {
  const width = 50;
  const filled = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  const arrow = filled < width ? '>' : '';
  return `[${'='.repeat(Math.max(0, filled - (arrow ? 1 : 0)))}${arrow}${' '.repeat(width - filled)}]  ${humanSize(current)}/${humanSize(total)}`;
}

/** " (network 1.2s, decompress 0.8s, write 2.1s, process 35s)": where a timed layer import's time went. */
export function layerTimings(t: P.LayerTimingsParams | undefined): string {
  if (!t) return '';
  const s = (ms: number) => (ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`);
  const parts = [`network ${s(t.networkMs)}`];
  for (const [k, word] of [['decompressMs', 'decompress'], ['writeMs', 'write'], ['importMs', 'import'], ['processMs', 'process']] as const) {
    const v = t[k];
    if (v !== undefined && (v > 0 || k === 'decompressMs' || k === 'writeMs')) parts.push(`${word} ${s(v)}`);
  }
  return ` (${parts.join(', ')})`;
}

/** Keeps one line per layer; on a TTY rewrites them in place, else prints each phase change once. */
class LayerDisplay {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private readonly seen = new Set<string>();
  private drawn = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly out: TerminalOutput, private readonly words: Record<string, string>, private readonly quiet: boolean) {}

  update(p: P.LayerProgressParams): void {
    if (this.quiet) return;
    if (!this.lines.has(p.id)) this.order.push(p.id);
    const word = layerStatus(this.words, p);
    const detail = PROGRESS_PHASES.has(p.phase) && p.total ? ` ${bar(p.current ?? 0, p.total)}` : '';
    const timed = layerTimings(p.timings);
    this.lines.set(p.id, `${p.id}: ${word}${this.out.isTTY ? detail : ''}${timed}`);
    if (this.out.isTTY) {
      this.timer ??= setTimeout(() => this.draw(), 100);
    } else if (!PROGRESS_PHASES.has(p.phase) && !this.seen.has(`${p.id} ${p.phase}`)) {
      this.seen.add(`${p.id} ${p.phase}`);
      this.out.write(`${p.id}: ${word}${timed}\n`);
    }
  }

  private draw(): void {
    this.timer = undefined;
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A`);
    for (const id of this.order) this.out.write(`\x1b[2K${this.lines.get(id)}\n`);
    this.drawn = this.order.length;
  }

  finish(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.draw();
    }
  }
}

function familiarRepo(ref: string): { repo: string; tag?: string; digest?: string } {
  const at = ref.indexOf('@');
  const base = at >= 0 ? ref.slice(0, at) : ref;
  const colon = base.lastIndexOf(':');
  const hasTag = colon > base.lastIndexOf('/');
  return { repo: hasTag ? base.slice(0, colon) : base, tag: hasTag ? base.slice(colon + 1) : undefined, digest: at >= 0 ? ref.slice(at + 1) : undefined };
}

const pull: Command = {
  name: 'pull',
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  description: 'Download an image from a registry',
  flags: [
    { name: 'platform', kind: 'string', help: 'Set platform if server is multi-platform capable (os/arch[/variant], windows/amd64:10.0.20348)' },
    { name: 'quiet', short: 'q', kind: 'bool', help: 'Suppress verbose output' },
    { name: 'isolation', kind: 'string', help: 'Windows: the isolation the image must run in (process, hyperv)' },
    { name: 'all-tags', short: 'a', kind: 'bool', help: 'Download all tagged images in the repository (not supported)' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(cli, p) {
    if (bool(p, 'all-tags')) throw invalidArgument('--all-tags is not supported by silo', 'pull the tags one by one');
    const isolation = str(p, 'isolation');
    if (isolation && isolation !== 'process' && isolation !== 'hyperv') throw invalidArgument(`invalid isolation "${isolation}"`, 'use process or hyperv');
    const ref = p.args[0];
    const quiet = bool(p, 'quiet');
    const parts = familiarRepo(ref);
    if (!quiet && !parts.tag && !parts.digest) cli.out.write('Using default tag: latest\n');
    const first = parts.repo.split('/')[0];
    const path = parts.repo.includes('/') && (/[.:]/.test(first) || first === 'localhost') ? parts.repo.slice(first.length + 1) : parts.repo;
    if (!quiet) cli.out.write(`${parts.digest ?? parts.tag ?? 'latest'}: Pulling from ${path.includes('/') ? path : `library/${path}`}\n`);
    const conn = await cli.engine();
    const token = randomBytes(8).toString('hex');
    const display = new LayerDisplay(cli.out, PULL_STATUS, quiet);
    const sub = conn.onNotification(P.LayerProgressNotification.type, (n: P.LayerProgressParams) => {
      if (n.token === token) display.update(n);
    });
    try {
      const r = await conn.sendRequest(P.ImagePullRequest.type, { ref, platform: str(p, 'platform'), isolation: isolation as 'process' | 'hyperv' | undefined, progress: token });
      display.finish();
      const shown = parts.digest ? ref : `${parts.repo}:${parts.tag ?? 'latest'}`;
      if (!quiet) {
        cli.out.write(`Digest: ${r.digest}\n`);
        cli.out.write(r.status === 'up-to-date' ? `Status: Image is up to date for ${shown}\n` : `Status: Downloaded newer image for ${shown}\n`);
      }
      cli.out.write(`${r.reference}\n`);
      return 0;
    } finally {
      display.finish();
      sub.dispose();
    }
  },
};

const push: Command = {
  name: 'push',
  usage: '[OPTIONS] NAME[:TAG]',
  description: 'Upload an image to a registry',
  flags: [{ name: 'quiet', short: 'q', kind: 'bool', help: 'Suppress verbose output' }],
  minArgs: 1,
  maxArgs: 1,
  async run(cli, p) {
    const ref = p.args[0];
    const quiet = bool(p, 'quiet');
    const parts = familiarRepo(ref);
    if (!quiet) cli.out.write(`The push refers to repository [${parts.repo.includes('/') && /[.:]|^localhost\//.test(parts.repo.split('/')[0]) ? parts.repo : `docker.io/${parts.repo.includes('/') ? parts.repo : `library/${parts.repo}`}`}]\n`);
    const conn = await cli.engine();
    const token = randomBytes(8).toString('hex');
    const display = new LayerDisplay(cli.out, PUSH_STATUS, quiet);
    const sub = conn.onNotification(P.LayerProgressNotification.type, (n: P.LayerProgressParams) => {
      if (n.token === token) display.update(n);
    });
    try {
      const r = await conn.sendRequest(P.ImagePushRequest.type, { ref, progress: token });
      display.finish();
      cli.out.write(quiet ? `${ref}\n` : `${r.tag}: digest: ${r.digest} size: ${r.size}\n`);
      return 0;
    } finally {
      display.finish();
      sub.dispose();
    }
  },
};

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(parts).toString('utf8');
}

/** One line from the terminal, echo off for the password (docker's prompt). */
async function prompt(cli: Cli, question: string, secret: boolean): Promise<string> {
  const stdin = cli.stdin;
  cli.out.write(question);
  if (secret && stdin.isTTY) stdin.setRawMode?.(true);
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(text);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(invalidArgument('login cancelled'));
          return;
        }
        if (ch === '\u007f') text = text.slice(0, -1);
        else text += ch;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      if (secret && stdin.isTTY) stdin.setRawMode?.(false);
      stdin.pause();
      if (secret) cli.out.write('\n');
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

const login: Command = {
  name: 'login',
  usage: '[OPTIONS] [SERVER]',
  description: 'Log in to a registry (credentials are checked, then kept in an owner-only file of the data root)',
  flags: [
    { name: 'username', short: 'u', kind: 'string', help: 'Username' },
    { name: 'password', short: 'p', kind: 'string', help: 'Password' },
    { name: 'password-stdin', kind: 'bool', help: 'Take the password from stdin' },
  ],
  maxArgs: 1,
  async run(cli, p) {
    let username = str(p, 'username');
    let password = str(p, 'password');
    if (password !== undefined) cli.err.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    if (bool(p, 'password-stdin')) {
      if (password !== undefined) throw invalidArgument('--password and --password-stdin are mutually exclusive');
      if (!username) throw invalidArgument('Must provide --username with --password-stdin');
      password = (await readAll(cli.stdin)).replace(/\r?\n$/, '');
    }
    if (!username) {
      if (!cli.stdin.isTTY) throw invalidArgument('Cannot perform an interactive login from a non TTY device', 'use --username and --password-stdin');
      username = await prompt(cli, 'Username: ', false);
    }
    if (!password) {
      if (!cli.stdin.isTTY) throw invalidArgument('Cannot perform an interactive login from a non TTY device', 'use --password-stdin');
      password = await prompt(cli, 'Password: ', true);
    }
    await (await cli.engine()).sendRequest(P.LoginRequest.type, { server: p.args[0], username, password });
    cli.out.write('Login Succeeded\n');
    return 0;
  },
};

const logout: Command = {
  name: 'logout',
  usage: '[SERVER]',
  description: 'Log out from a registry',
  flags: [],
  maxArgs: 1,
  async run(cli, p) {
    const r = await (await cli.engine()).sendRequest(P.LogoutRequest.type, { server: p.args[0] });
    cli.out.write(r.removed ? `Removing login credentials for ${r.domain}\n` : `Not logged in to ${r.domain}\n`);
    return 0;
  },
};

export const registryCommands: Command[] = [pull, push, login, logout];
