// `silo build`: docker's classic-builder output ("Step 3/12 : RUN ...", " ---> Using cache",
// " ---> Running in <id>", "Successfully built <id>"), plus the reason of every cache miss.
// Ctrl-C cancels the build request; the engine stops the running step and removes its container.
import { randomBytes } from 'node:crypto';
import { CancellationTokenSource } from 'vscode-jsonrpc';
import { invalidArgument } from '../errors';
import * as P from '../protocol';
import type { Cli, Command } from './cli';
import { bool, list, str } from './flags';

function pairs(cli: Cli, values: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i === 0) throw invalidArgument(`invalid ${flag} "${v}"`, 'use KEY=VALUE');
    if (i < 0) {
      // `--build-arg K` takes K from this environment, as docker does.
      if (cli.env[v] !== undefined) out[v] = cli.env[v]!;
      continue;
    }
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export const buildCommand: Command = {
  name: 'build',
  usage: '[OPTIONS] PATH',
  description: 'Build an image from a Dockerfile',
  flags: [
    { name: 'tag', short: 't', kind: 'list', help: 'Name and optionally a tag in the "name:tag" format' },
    { name: 'file', short: 'f', kind: 'string', help: "Name of the Dockerfile (Default is 'PATH/Dockerfile')" },
    { name: 'target', kind: 'string', help: 'Set the target build stage to build' },
    { name: 'build-arg', kind: 'list', help: 'Set build-time variables' },
    { name: 'no-cache', kind: 'bool', help: 'Do not use cache when building the image' },
    { name: 'pull', kind: 'bool', help: 'Always attempt to pull a newer version of the image' },
    { name: 'label', kind: 'list', help: 'Set metadata for an image' },
    { name: 'quiet', short: 'q', kind: 'bool', help: 'Suppress the build output and print image ID on success' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(cli, p) {
    const context = cli.resolvePath(p.args[0]);
    const file = str(p, 'file');
    const quiet = bool(p, 'quiet');
    const conn = await cli.engine();
    const stream = `build-${randomBytes(8).toString('hex')}`;
    const out = (s: string) => {
      if (!quiet) cli.out.write(s);
    };
    let atLineStart = true;
    conn.onNotification(P.BuildProgressNotification.type, ({ stream: s, event: e }) => {
      if (s !== stream) return;
      const nl = () => {
        if (!atLineStart) out('\n');
        atLineStart = true;
      };
      switch (e.kind) {
        case 'step':
          nl();
          out(`Step ${e.step.step}/${e.step.total} : ${e.step.instruction}\n`);
          break;
        case 'cache':
          out(e.cached ? ' ---> Using cache\n' : ` ---> Cache miss: ${e.reason}\n`);
          break;
        case 'container':
          out(` ---> Running in ${short(e.id)}\n`);
          break;
        case 'output':
          if (quiet) break;
          (e.stream === 'stderr' ? cli.err : cli.out).write(e.text);
          atLineStart = e.text.endsWith('\n');
          break;
        case 'removed':
          nl();
          out(`Removing intermediate container ${short(e.id)}\n`);
          break;
        case 'image':
          nl();
          out(` ---> ${e.id === 'scratch' ? 'scratch' : short(e.id)}\n`);
          break;
        case 'warning':
          nl();
          cli.err.write(`[Warning] ${e.text}\n`);
          break;
      }
    });
    const cts = new CancellationTokenSource();
    const onInt = () => cts.cancel();
    const offInt = cli.terminal.onInterrupt(onInt);
    try {
      const r = await conn.sendRequest(
        P.BuildRequest.type,
        {
          stream,
          context,
          dockerfile: file ? cli.resolvePath(file) : undefined,
          tags: list(p, 'tag'),
          target: str(p, 'target'),
          buildArgs: pairs(cli, list(p, 'build-arg'), '--build-arg'),
          noCache: bool(p, 'no-cache'),
          pull: bool(p, 'pull'),
          labels: pairs(cli, list(p, 'label'), '--label'),
        },
        cts.token,
      );
      if (quiet) cli.out.write(`${r.id}\n`);
      else {
        out(`Successfully built ${short(r.id)}\n`);
        for (const t of r.tags) out(`Successfully tagged ${t.includes(':') ? t : `${t}:latest`}\n`);
      }
      return 0;
    } catch (err) {
      if (cts.token.isCancellationRequested) {
        cli.err.write('silo: the build was canceled\n');
        return 130;
      }
      throw err;
    } finally {
      offInt();
    }
  },
};
