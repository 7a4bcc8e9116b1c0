// Skip directives: `# silo-ignore SILO101 SILO104` on the comment line(s) right above an instruction
// silences those codes for that instruction; `# silo-ignore-file SILO101` anywhere silences them for
// the file. Without codes, a directive silences every Silo check (like `# dockerfile-utils: ignore`).
import type { TextEdit } from 'vscode-languageserver-types';
import type { Dockerfile, Instruction } from '../dockerfile/parse';
import type { Finding, Fix } from './rule';

type Codes = Set<string> | 'all';

export interface SkipDirectives {
  file: Codes | undefined;
  /** By instruction start line. */
  instructions: Map<number, Codes>;
}

const LINE = /^silo-ignore(?:\s+(.*))?$/i;
const FILE = /^silo-ignore-file(?:\s+(.*))?$/i;

function codesOf(list: string | undefined): Codes {
  const codes = (list ?? '').split(/[\s,]+/).filter((c) => c !== '').map((c) => c.toUpperCase());
  return codes.length === 0 ? 'all' : new Set(codes);
}

function merge(a: Codes | undefined, b: Codes): Codes {
  if (a === 'all' || b === 'all') return 'all';
  return a ? new Set([...a, ...b]) : b;
}

function has(codes: Codes | undefined, code: string): boolean {
  return codes === 'all' || (codes !== undefined && codes.has(code));
}

export function readSkipDirectives(file: Dockerfile): SkipDirectives {
  const byLine = new Map<number, string>();
  let fileCodes: Codes | undefined;
  for (const c of file.comments) {
    const f = FILE.exec(c.text);
    if (f) fileCodes = merge(fileCodes, codesOf(f[1]));
    else byLine.set(c.line, c.text);
  }
  const instructions = new Map<number, Codes>();
  for (const ins of file.instructions) {
    let codes: Codes | undefined;
    for (let l = ins.startLine - 1; l >= 0 && byLine.has(l); l--) {
      const m = LINE.exec(byLine.get(l)!);
      if (m) codes = merge(codes, codesOf(m[1]));
    }
    if (codes) instructions.set(ins.startLine, codes);
  }
  return { file: fileCodes, instructions };
}

/** The instruction a finding belongs to (its first line lies within it). */
export function instructionAt(file: Dockerfile, line: number): Instruction | undefined {
  let lo = 0;
  let hi = file.instructions.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const ins = file.instructions[mid];
    if (line < ins.startLine) hi = mid - 1;
    else if (line > ins.endLine) lo = mid + 1;
    else return ins;
  }
  return undefined;
}

export function isSkipped(skips: SkipDirectives, file: Dockerfile, finding: Finding): boolean {
  if (has(skips.file, finding.code)) return true;
  const ins = instructionAt(file, finding.range.start.line);
  return ins !== undefined && has(skips.instructions.get(ins.startLine), finding.code);
}

/** Quick fixes that add a skip directive for a finding's code. */
export function skipFixes(file: Dockerfile, finding: Finding): Fix[] {
  const fixes: Fix[] = [];
  const ins = instructionAt(file, finding.range.start.line);
  if (ins) {
    const above = ins.startLine - 1;
    const existing = above >= 0 ? /^(\s*#\s*silo-ignore)(\s+[A-Z0-9, ]+)?\s*$/i.exec(file.lines[above]) : null;
    let edit: TextEdit;
    if (existing && existing[2]) {
      const end = file.lines[above].trimEnd().length;
      edit = { range: { start: { line: above, character: end }, end: { line: above, character: end } }, newText: ` ${finding.code}` };
    } else {
      const indent = /^\s*/.exec(file.lines[ins.startLine])![0];
      edit = { range: { start: { line: ins.startLine, character: 0 }, end: { line: ins.startLine, character: 0 } }, newText: `${indent}# silo-ignore ${finding.code}\n` };
    }
    fixes.push({ title: `Skip ${finding.code} for this instruction`, edits: [edit] });
  }
  const at = file.directives.length > 0 ? file.directives[file.directives.length - 1].line + 1 : 0;
  fixes.push({
    title: `Skip ${finding.code} in this file`,
    edits: [{ range: { start: { line: at, character: 0 }, end: { line: at, character: 0 } }, newText: `# silo-ignore-file ${finding.code}\n` }],
  });
  return fixes;
}
