// A Dockerfile as the builder reads it: parsed by dockerfile-ast (the parser the language server
// uses, so the editor and the builder agree on lines, continuations and the escape directive), then
// split into global ARGs and stages. Every instruction keeps its 0-based line for errors and for the
// cache hints the editor shows on the line.
import type * as DockerfileAst from 'dockerfile-ast';
import { invalidArgument, SiloError } from '../errors';
import { execForm } from '../image/configChanges';

export interface Heredoc {
  name: string;
  /** The body, each line ending in "\n" (BuildKit keeps the final newline). */
  content: string;
}

export interface Instruction {
  /** Upper-case keyword. */
  keyword: string;
  /** The arguments with line continuations removed and flags taken off, heredoc bodies excluded. */
  args: string;
  /** `--name=value` flags before the arguments. */
  flags: Record<string, string>;
  heredocs: Heredoc[];
  /** 0-based first and last physical line. */
  line: number;
  endLine: number;
  /** The instruction as written on its first line (for messages and history). */
  original: string;
}

export interface Stage {
  index: number;
  /** Lower-cased `AS` name. */
  name?: string;
  /** The FROM instruction. */
  from: Instruction;
  /** The image or stage name as written (variables not yet expanded). */
  base: string;
  platform?: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  escape: '\\' | '`';
  /** ARGs before the first FROM: visible to FROM lines only. */
  globalArgs: Instruction[];
  stages: Stage[];
}

/** Instructions the classic builder knows (moby builder/dockerfile/command). */
export const KNOWN = new Set(['FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL']);

/** An error that names the Dockerfile and line. */
export function lineError(file: string, line: number, message: string, hint?: string, kind: SiloError['kind'] = 'InvalidArgument'): SiloError {
  return new SiloError(kind, `${file}:${line + 1}: ${message}`, hint);
}

const HEREDOC_START = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

/** Splits leading `--flag=value` words off the arguments. */
function takeFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (;;) {
    const m = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
    if (!m) break;
    flags[m[1]] = m[2] ?? 'true';
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** Heredoc bodies follow the instruction's first line; the words `<<EOF` stay in the arguments (BuildKit). */
function splitHeredocs(text: string): { args: string; heredocs: Heredoc[] } {
  const lines = text.split('\n');
  const first = lines[0];
  const names: Array<{ name: string; chomp: boolean }> = [];
  for (const m of first.matchAll(HEREDOC_START)) names.push({ name: m[3], chomp: m[1] === '-' });
  if (!names.length) return { args: text, heredocs: [] };
  const heredocs: Heredoc[] = [];
  let i = 1;
  for (const h of names) {
    const body: string[] = [];
    while (i < lines.length && (h.chomp ? lines[i].replace(/^\t+/, '') : lines[i]) !== h.name) body.push(h.chomp ? lines[i++].replace(/^\t+/, '') : lines[i++]);
    i++;
    heredocs.push({ name: h.name, content: body.map((l) => l + '\n').join('') });
  }
  return { args: first, heredocs };
}

export function parseDockerfile(text: string, file = 'Dockerfile'): ParsedDockerfile {
  // Loaded on the first build, not with the engine: the parser and its LSP types cost ~8 MB of an
  // engine that idles most of its life (target: under 60 MB).
  const { DockerfileParser } = require('dockerfile-ast') as typeof DockerfileAst;
  const doc = DockerfileParser.parse(text);
  const escape = doc.getEscapeCharacter() === '`' ? '`' : '\\';
  const physical = text.split(/\r?\n/);
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of doc.getInstructions()) {
    const range = ins.getRange();
    const keyword = ins.getKeyword().toUpperCase();
    const line = range.start.line;
    if (!KNOWN.has(keyword)) {
      throw lineError(file, line, `unknown instruction: ${ins.getInstruction()}`, 'check the spelling; see the Dockerfile reference for the instructions');
    }
    const content = (ins.getArgumentsContent() ?? '').replace(/\r/g, '');
    const { args: withFlags, heredocs } = keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD' ? splitHeredocs(content) : { args: content, heredocs: [] };
    const { flags, rest } = keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD' || keyword === 'FROM' || keyword === 'HEALTHCHECK' ? takeFlags(withFlags.trim()) : { flags: {}, rest: withFlags.trim() };
    // dockerfile-ast takes `--flag=value` off the arguments of COPY, ADD, FROM, RUN and HEALTHCHECK itself.
    const astFlags = (ins as unknown as { getFlags?: () => Array<{ getName(): string; getValue(): string | null }> }).getFlags?.() ?? [];
    for (const f of astFlags) flags[f.getName()] = f.getValue() ?? 'true';
    // HEALTHCHECK keeps its options in the arguments: the config change parses them (--interval, ...).
    const healthArgs = () => [...Object.entries(flags).map(([k, v]) => `--${k}=${v}`), rest].join(' ').trim();
    const instruction: Instruction = { keyword, args: keyword === 'HEALTHCHECK' ? healthArgs() : rest, flags: keyword === 'HEALTHCHECK' ? {} : flags, heredocs, line, endLine: range.end.line, original: (physical[line] ?? '').trim() };
    if (keyword === 'FROM') {
      const words = rest.split(/\s+/).filter(Boolean);
      if (words.length !== 1 && !(words.length === 3 && words[1].toUpperCase() === 'AS')) {
        throw lineError(file, line, 'FROM requires either one or three arguments', 'write FROM image [AS name]');
      }
      for (const f of Object.keys(flags)) if (f !== 'platform') throw lineError(file, line, `unknown flag: --${f}`, 'FROM takes only --platform');
      const name = words[2]?.toLowerCase();
      if (name !== undefined && !/^[a-z][a-z0-9-_.]*$/.test(name)) throw lineError(file, line, `invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
      if (name && stages.some((s) => s.name === name)) throw lineError(file, line, `duplicate name ${name}`, 'give each stage its own name');
      stages.push({ index: stages.length, name, from: instruction, base: words[0], platform: flags.platform, instructions: [] });
      continue;
    }
    if (!stages.length) {
      if (keyword !== 'ARG') throw lineError(file, line, `no build stage in current context: ${keyword} before the first FROM`, 'only ARG may come before FROM');
      globalArgs.push(instruction);
      continue;
    }
    if (!rest && !heredocs.length && keyword !== 'ENTRYPOINT' && keyword !== 'CMD') {
      throw lineError(file, line, `${keyword} requires at least one argument`);
    }
    stages[stages.length - 1].instructions.push(instruction);
  }
  if (!stages.length) throw invalidArgument(`${file}: the Dockerfile has no FROM instruction`, 'start the file with FROM image');
  return { escape, globalArgs, stages };
}

/** The exec form ["a","b"] as an array, or undefined for shell form. */
export { execForm };
