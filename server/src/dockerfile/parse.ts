// A Dockerfile split into parser directives, comments and logical instructions the way BuildKit's
// parser does it (moby/buildkit frontend/dockerfile/parser/parser.go). dockerfile-ast serves the
// generic features; Silo's checks read this view because one rule differs and real Windows files
// depend on it: an escaped escape token at the end of a line (`C:\\dir\\`, or two backticks under
// `# escape=``) ends the instruction, where dockerfile-ast 0.7 joins the next line.
import type { Position, Range } from 'vscode-languageserver-types';

export type EscapeChar = '\\' | '`';

export interface ParserDirective {
  name: string;
  value: string;
  line: number;
}

export interface Comment {
  line: number;
  /** The text after `#`, trimmed. */
  text: string;
}

/**
 * One logical instruction. Its arguments are kept as pieces of physical lines (segments), so an
 * offset in `args` maps back to the file.
 */
export class Instruction {
  /** Physical lines that end with an escape token the parser took as a continuation. */
  readonly continuationLines: number[] = [];
  /** The arguments with line continuations removed, as the builder sees them. */
  args = '';
  /** Last physical line (continuations, skipped comments and heredoc bodies included). */
  endLine: number;
  private readonly segOffset: number[] = [];
  private readonly segLine: number[] = [];
  private readonly segChar: number[] = [];
  private readonly segLength: number[] = [];

  constructor(
    /** Upper-cased keyword (`RUN`, `FROM`, ...). */
    readonly keyword: string,
    readonly keywordRange: Range,
    /** First physical line. */
    readonly startLine: number,
  ) {
    this.endLine = startLine;
  }

  /** Appends `text`, found at `line`:`character` in the file, to the arguments. */
  append(text: string, line: number, character: number): void {
    if (text === '') return;
    this.segOffset.push(this.args.length);
    this.segLine.push(line);
    this.segChar.push(character);
    this.segLength.push(text.length);
    this.args += text;
  }

  /** Maps an offset in `args` back to the file. */
  positionAt(offset: number): Position {
    const n = this.segOffset.length;
    if (n === 0) return { line: this.startLine, character: this.keywordRange.end.character };
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segOffset[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    const within = Math.min(Math.max(offset - this.segOffset[lo], 0), this.segLength[lo]);
    return { line: this.segLine[lo], character: this.segChar[lo] + within };
  }

  /**
   * The file range of `args[start, end)`. The last character is mapped and stepped past, so a
   * range never ends at the start of the next segment's line.
   */
  rangeOf(start: number, end: number): Range {
    const s = this.positionAt(start);
    if (end <= start) return { start: s, end: s };
    const last = this.positionAt(end - 1);
    return { start: s, end: { line: last.line, character: last.character + 1 } };
  }
}

export interface Dockerfile {
  text: string;
  lines: string[];
  escape: EscapeChar;
  /** The `# escape=` directive, when present. */
  escapeDirective?: ParserDirective;
  directives: ParserDirective[];
  comments: Comment[];
  instructions: Instruction[];
  /** Lines ending in an escaped escape token: the end of an instruction for BuildKit, a continuation for older parsers. */
  escapedEscapeLineEnds: number[];
}

const DIRECTIVE = /^\s*#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/;
const HEREDOC = /<<(-?)\s*(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

/** BuildKit's continuation test, built from the escape token (parser.go `setEscapeToken`). */
function continuationRegex(escape: EscapeChar): RegExp {
  const e = escape === '\\' ? '\\\\' : '`';
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

export function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = splitLines(text);
  const directives: ParserDirective[] = [];
  const comments: Comment[] = [];
  const instructions: Instruction[] = [];
  const escapedEscapeLineEnds: number[] = [];

  // Parser directives: only at the very top, before any comment, blank line or instruction.
  let i = 0;
  const seen = new Set<string>();
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]);
    if (!m) break;
    const name = m[1].toLowerCase();
    if (seen.has(name)) break; // a repeated directive is a comment (and an error the validator reports)
    seen.add(name);
    directives.push({ name, value: m[2], line: i });
  }
  const escapeDirective = directives.find((d) => d.name === 'escape');
  const escape: EscapeChar = escapeDirective?.value === '`' ? '`' : '\\';
  const continues = continuationRegex(escape);
  const doubleEscapeEnd = new RegExp(`${escape === '\\' ? '\\\\\\\\' : '``'}[ \\t]*$`);

  for (; i < lines.length; i++) {
    const line = lines[i];
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (trimmed.startsWith('#')) {
      comments.push({ line: i, text: trimmed.slice(1).trim() });
      continue;
    }
    const kwStart = line.length - line.trimStart().length;
    const kwMatch = /^\S+/.exec(line.slice(kwStart))!;
    const keyword = kwMatch[0];
    const startLine = i;
    const ins = new Instruction(
      keyword.toUpperCase(),
      { start: { line: i, character: kwStart }, end: { line: i, character: kwStart + keyword.length } },
      startLine,
    );
    // Arguments start after the keyword and its whitespace.
    let from = kwStart + keyword.length;
    while (from < line.length && (line[from] === ' ' || line[from] === '\t')) from++;
    let lineNo = i;
    for (;;) {
      const current = lines[lineNo];
      const m = continues.exec(current);
      if (!m) {
        if (doubleEscapeEnd.test(current)) escapedEscapeLineEnds.push(lineNo);
        ins.append(current.slice(from), lineNo, from);
        break;
      }
      // Drop the escape token and trailing blanks; keep the character the regex consumed before it.
      const cut = m.index + (m[1] ? m[1].length : 0);
      ins.append(current.slice(from, Math.max(from, cut)), lineNo, from);
      ins.continuationLines.push(lineNo);
      // Following comment and blank lines are skipped inside a continuation.
      let next = lineNo + 1;
      for (; next < lines.length; next++) {
        const t = lines[next].trim();
        if (t !== '' && !t.startsWith('#')) break;
        if (t !== '') comments.push({ line: next, text: t.slice(1).trim() });
      }
      if (next >= lines.length) break;
      lineNo = next;
      from = 0;
    }
    i = lineNo;
    // Heredocs (BuildKit): the body lines belong to the instruction; Silo's checks do not read them.
    if ((ins.keyword === 'RUN' || ins.keyword === 'COPY' || ins.keyword === 'ADD') && ins.args.includes('<<')) {
      HEREDOC.lastIndex = 0;
      const delimiters: string[] = [];
      for (let h = HEREDOC.exec(ins.args); h; h = HEREDOC.exec(ins.args)) delimiters.push(h[3]);
      for (const d of delimiters) {
        let j = i + 1;
        while (j < lines.length && lines[j].replace(/^\t+/, '') !== d) j++;
        i = Math.min(j, lines.length - 1);
      }
    }
    ins.endLine = i;
    instructions.push(ins);
  }
  return { text, lines, escape, escapeDirective, directives, comments, instructions, escapedEscapeLineEnds };
}

/** A whitespace-separated word of an instruction's arguments, with its offsets in `args`. */
export interface Word {
  text: string;
  start: number;
  end: number;
}

/** Splits arguments on unquoted blanks (quotes and the escape token keep a word together). */
export function splitWords(args: string, escape: EscapeChar): Word[] {
  const words: Word[] = [];
  let start = -1;
  let quote = '';
  for (let k = 0; k <= args.length; k++) {
    const c = args[k];
    if (k === args.length || (!quote && (c === ' ' || c === '\t'))) {
      if (start >= 0) words.push({ text: args.slice(start, k), start, end: k });
      start = -1;
      continue;
    }
    if (start < 0) start = k;
    if (c === escape && k + 1 < args.length) {
      k++;
      continue;
    }
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    }
  }
  return words;
}

/** The flags (`--name=value`) at the start of an instruction's words, and the words after them. */
export function splitFlags(words: Word[]): { flags: Map<string, Word>; rest: Word[] } {
  const flags = new Map<string, Word>();
  let k = 0;
  for (; k < words.length && words[k].text.startsWith('--'); k++) {
    const eq = words[k].text.indexOf('=');
    flags.set((eq >= 0 ? words[k].text.slice(2, eq) : words[k].text.slice(2)).toLowerCase(), words[k]);
  }
  return { flags, rest: words.slice(k) };
}

/** Whether arguments are written as a JSON array (exec form); the JSON may still be invalid. */
export function looksLikeJsonArray(args: string): boolean {
  return /^\[\s*"/.test(args.trim()) && /"\s*\]$/.test(args.trim());
}

/**
 * Exec-form arrays by argument text. A document is checked again at every edit with most of its
 * lines unchanged, and arguments that only look like JSON (Windows paths: `["C:\tools\x.exe"]`)
 * cost a thrown exception each time; so each text is parsed once. Bounded: cleared when full.
 */
const parsedArrays = new Map<string, readonly string[] | null>();
const MAX_PARSED_ARRAYS = 4096;

/** The exec-form array, or undefined when the arguments are not valid JSON string arrays. */
export function parseJsonArray(args: string): readonly string[] | undefined {
  const t = args.trim();
  if (!t.startsWith('[')) return undefined;
  let v = parsedArrays.get(t);
  if (v === undefined) {
    v = null;
    try {
      const parsed: unknown = JSON.parse(t);
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) v = Object.freeze(parsed as string[]);
    } catch {
      // not JSON: the builder runs it in shell form
    }
    if (parsedArrays.size >= MAX_PARSED_ARRAYS) parsedArrays.clear();
    parsedArrays.set(t, v);
  }
  return v ?? undefined;
}

const jsonArrays = new WeakMap<Instruction, readonly string[] | null>();

/** `parseJsonArray` of an instruction's arguments, parsed once per instruction. */
export function jsonArrayOf(ins: Instruction): readonly string[] | undefined {
  let v = jsonArrays.get(ins);
  if (v === undefined) {
    v = parseJsonArray(ins.args) ?? null;
    jsonArrays.set(ins, v);
  }
  return v ?? undefined;
}
