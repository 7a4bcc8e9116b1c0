// Image verbs: import, load, save, images, tag, rmi, history, and inspect (containers or images).
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { invalidArgument } from '../errors';
import * as P from '../protocol';
import { ResponseError } from 'vscode-jsonrpc';
import type { Cli, Command } from './cli';
import { registryCommands } from './registryCommands';
import { bool, list, str } from './flags';
import { ago, formatRows, goTime, humanSize, shortId, table } from './format';
import { compileTemplate } from './goTemplate';
import { IMAGE_FILTERS, labelMatches, matchAll, parseFilterFlags, refMatches } from '../service/filters';

const importCmd: Command = {
  name: 'import',
  usage: '[OPTIONS] file|- [REPOSITORY[:TAG]]',
  description: 'Import the contents from a tarball to create a filesystem image',
  flags: [
    { name: 'change', short: 'c', kind: 'list', help: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', kind: 'string', help: 'Set commit message for imported image' },
  ],
  minArgs: 1,
  maxArgs: 2,
  async run(cli, p) {
    const [source, ref] = p.args;
    const conn = await cli.engine();
    const spooled = source === '-' ? await cli.spoolStdin() : undefined;
    try {
      const file = spooled?.path ?? cli.resolvePath(source);
      if (!spooled) await fs.access(file).catch(() => {
        throw invalidArgument(`open ${source}: no such file or directory`, 'give a tar file, or - for standard input');
      });
      const { id } = await conn.sendRequest(P.ImageImportRequest.type, {
        path: file, ref, changes: list(p, 'change'), message: str(p, 'message') ?? (source === '-' ? undefined : `Imported from ${source}`),
      });
      cli.out.write(id + '\n');
      return 0;
    } finally {
      await spooled?.dispose();
    }
  },
};

const load: Command = {
  name: 'load',
  usage: '[OPTIONS]',
  description: 'Load an image from a tar archive (docker save or OCI layout) or STDIN',
  flags: [
    { name: 'input', short: 'i', kind: 'string', help: 'Read from tar archive file, instead of STDIN' },
    { name: 'quiet', short: 'q', kind: 'bool', help: 'Suppress the load output' },
  ],
  maxArgs: 0,
  async run(cli, p) {
    const input = str(p, 'input');
    if (!input && cli.stdin.isTTY) throw invalidArgument('requested load from stdin, but stdin is empty', 'pipe an archive in, or use -i FILE');
    const spooled = input ? undefined : await cli.spoolStdin();
    try {
      const loaded = await (await cli.engine()).sendRequest(P.ImageLoadRequest.type, { path: spooled?.path ?? cli.resolvePath(input!) });
      if (!bool(p, 'quiet')) {
        for (const img of loaded) {
          if (img.names.length) for (const n of img.names) cli.out.write(`Loaded image: ${n}\n`);
          else cli.out.write(`Loaded image ID: ${img.id}\n`);
        }
      }
      return 0;
    } finally {
      await spooled?.dispose();
    }
  },
};

const save: Command = {
  name: 'save',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  description: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  flags: [{ name: 'output', short: 'o', kind: 'string', help: 'Write to a file, instead of STDOUT' }],
  minArgs: 1,
  async run(cli, p) {
    const output = str(p, 'output');
    if (!output && cli.out.isTTY) throw invalidArgument('cowardly refusing to save to a terminal', 'use the -o flag or redirect');
    const conn = await cli.engine();
    if (output) {
      await conn.sendRequest(P.ImageSaveRequest.type, { refs: p.args, path: cli.resolvePath(output) });
      return 0;
    }
    const tmp = path.join(cli.root, 'tmp', `save-${process.pid}-${randomBytes(8).toString('hex')}.tar`);
    await fs.mkdir(path.dirname(tmp), { recursive: true, mode: 0o700 });
    try {
      await conn.sendRequest(P.ImageSaveRequest.type, { refs: p.args, path: tmp });
      await cli.pipeFileToStdout(tmp);
    } finally {
      await fs.rm(tmp, { force: true });
    }
    return 0;
  },
};

const images: Command = {
  name: 'images',
  usage: '[OPTIONS]',
  description: 'List images',
  flags: [
    { name: 'all', short: 'a', kind: 'bool', help: 'Show all images (default hides intermediate images)' },
    { name: 'quiet', short: 'q', kind: 'bool', help: 'Only show image IDs' },
    { name: 'no-trunc', kind: 'bool', help: "Don't truncate output" },
    { name: 'digests', kind: 'bool', help: 'Show digests' },
    { name: 'filter', short: 'f', kind: 'list', help: 'Filter output based on conditions provided (dangling, label, reference)' },
    { name: 'format', kind: 'string', help: 'Format output using a custom template: \'table\', \'table TEMPLATE\', \'json\' or a Go template' },
  ],
  maxArgs: 1,
  async run(cli, p) {
    const filters = parseFilterFlags(list(p, 'filter'), IMAGE_FILTERS);
    const dangling = filters.get('dangling')?.[0];
    const conn = await cli.engine();
    let rows = await conn.sendRequest(P.ImageListRequest.type, { all: bool(p, 'all'), dangling: dangling === undefined ? undefined : dangling === 'true' || dangling === '1' });
    if (p.args[0]) rows = rows.filter((r) => r.repository === p.args[0] || `${r.repository}:${r.tag}` === p.args[0]);
    const labels = new Map<string, Record<string, string>>();
    if (filters.has('label')) {
      for (const id of new Set(rows.map((r) => r.id))) {
        const config = (await conn.sendRequest(P.ImageInspectRequest.type, { ref: id })).Config as { Labels?: Record<string, string> | null } | null;
        labels.set(id, config?.Labels ?? {});
      }
    }
    rows = rows.filter((r) => matchAll(filters, (name, v) => {
      if (name === 'dangling') return true;
      if (name === 'label') return labelMatches(labels.get(r.id), v);
      return r.tag !== '<none>' && refMatches(v, `${r.repository}:${r.tag}`);
    }));
    const id = (x: string) => (bool(p, 'no-trunc') ? x : shortId(x));
    if (bool(p, 'quiet')) {
      for (const r of [...new Set(rows.map((r) => id(r.id)))]) cli.out.write(r + '\n');
      return 0;
    }
    const format = str(p, 'format');
    if (format && format.trim() !== 'table') {
      cli.out.write(formatRows(format, rows.map((r) => ({
        ID: id(r.id), Repository: r.repository, Tag: r.tag, Digest: r.digest || '<none>', CreatedSince: ago(r.created), CreatedAt: goTime(r.created), Size: humanSize(r.size),
      })), { ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE' }));
      return 0;
    }
    const digests = bool(p, 'digests');
    cli.out.write(
      table(
        ['REPOSITORY', 'TAG', ...(digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'],
        rows.map((r) => [r.repository, r.tag, ...(digests ? [r.digest] : []), id(r.id), ago(r.created), humanSize(r.size)]),
      ),
    );
    return 0;
  },
};

const tag: Command = {
  name: 'tag',
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  flags: [],
  minArgs: 2,
  maxArgs: 2,
  async run(cli, p) {
    await (await cli.engine()).sendRequest(P.ImageTagRequest.type, { source: p.args[0], target: p.args[1] });
    return 0;
  },
};

const rmi: Command = {
  name: 'rmi',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  description: 'Remove one or more images',
  flags: [{ name: 'force', short: 'f', kind: 'bool', help: 'Force removal of the image' }],
  minArgs: 1,
  async run(cli, p) {
    const conn = await cli.engine();
    let failed = 0;
    for (const ref of p.args) {
      try {
        for (const r of await conn.sendRequest(P.ImageRemoveRequest.type, { ref, force: bool(p, 'force') })) {
          cli.out.write('Untagged' in r ? `Untagged: ${r.Untagged}\n` : `Deleted: ${r.Deleted}\n`);
        }
      } catch (err) {
        failed++;
        cli.err.write(`Error: ${(err as Error).message}\n`);
      }
    }
    return failed ? 1 : 0;
  },
};

const history: Command = {
  name: 'history',
  usage: '[OPTIONS] IMAGE',
  description: 'Show the history of an image',
  flags: [
    { name: 'no-trunc', kind: 'bool', help: "Don't truncate output" },
    { name: 'quiet', short: 'q', kind: 'bool', help: 'Only show image IDs' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(cli, p) {
    const rows = await (await cli.engine()).sendRequest(P.ImageHistoryRequest.type, { ref: p.args[0] });
    const full = bool(p, 'no-trunc');
    const id = (x: string) => (x.startsWith('sha256:') ? (full ? x : shortId(x)) : x);
    if (bool(p, 'quiet')) {
      for (const r of rows) cli.out.write(id(r.Id) + '\n');
      return 0;
    }
    const by = (s: string) => (full || s.length <= 45 ? s : s.slice(0, 44) + '…');
    cli.out.write(table(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], rows.map((r) => [id(r.Id), ago(r.Created), by(r.CreatedBy), humanSize(r.Size), r.Comment])));
    return 0;
  },
};

const inspect: Command = {
  name: 'inspect',
  usage: '[OPTIONS] NAME|ID [NAME|ID...]',
  description: 'Return low-level information on containers or images as JSON',
  flags: [
    { name: 'format', short: 'f', kind: 'string', help: 'Format output using a custom template' },
    { name: 'type', kind: 'string', help: 'Only inspect objects of the given type: container or image' },
  ],
  minArgs: 1,
  async run(cli, p) {
    const type = str(p, 'type');
    const format = str(p, 'format');
    const render = format ? compileTemplate(format) : undefined; // a bad template fails before anything is asked
    const results: unknown[] = [];
    let failed = 0;
    for (const name of p.args) {
      try {
        results.push(await inspectOne(cli, name, type));
      } catch {
        failed++;
        cli.err.write(`Error: No such object: ${name}\n`);
      }
    }
    if (render) for (const r of results) cli.out.write(render(r) + '\n');
    else cli.out.write(JSON.stringify(results, null, 4) + '\n');
    return failed ? 1 : 0;
  },
};

async function inspectOne(cli: Cli, name: string, type: string | undefined): Promise<unknown> {
  const conn = await cli.engine();
  const notFound = (err: unknown) => err instanceof ResponseError && (err.data as P.ErrorData | undefined)?.kind === 'NotFound';
  if (type !== 'image') {
    try {
      return await conn.sendRequest(P.ContainerInspectRequest.type, { id: name });
    } catch (err) {
      if (!notFound(err) || type === 'container') throw err;
    }
  }
  return conn.sendRequest(P.ImageInspectRequest.type, { ref: name });
}

export const imageCommands: Command[] = [importCmd, load, save, images, tag, rmi, history, inspect, ...registryCommands];
