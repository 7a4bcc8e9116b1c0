// The Dockerfile as dockerfile-utils should see it, and its diagnostics as Silo shows them.
//
// dockerfile-ast 0.7 joins the line after an escaped escape token at the end of a line (`C:\\dir\\`),
// where BuildKit ends the instruction (reference/editor.md §3.6; buildkit parser.go). On the official
// mongo nanoserver file that gives a false "destination must be a directory" error and an "Empty
// continuation line" warning. The validator therefore reads a copy in which such a line end is `//`
// (same length, so every position still holds, and still a directory for COPY).
import type { Diagnostic } from 'vscode-languageserver-types';
import { ValidationCode } from 'dockerfile-utils';
import type { Dockerfile } from './dockerfile/parse';
import { stageOf, type Stage } from './dockerfile/stages';
import type { Finding } from './rules/index';
import { isWindowsAbsolute } from './rules/relativeWorkdir';

export function textForValidator(file: Dockerfile): string {
  if (file.escapedEscapeLineEnds.length === 0) return file.text;
  const lines = file.text.split('\n');
  for (const l of file.escapedEscapeLineEnds) {
    const line = lines[l];
    const cr = line.endsWith('\r') ? '\r' : '';
    const body = cr ? line.slice(0, -1) : line;
    const end = body.trimEnd().length;
    lines[l] = `${body.slice(0, end - 2)}//${body.slice(end)}${cr}`;
  }
  return lines.join('\n');
}

/**
 * Drops the validator's "WORKDIR paths should be absolute" in Windows stages: a rooted `\app` is
 * absolute there, and a relative one gets SILO109 with a Windows message and a fix.
 */
export function filterLibraryDiagnostics(diagnostics: Diagnostic[], file: Dockerfile, stages: readonly Stage[], findings: readonly Finding[]): Diagnostic[] {
  return diagnostics.filter((d) => {
    if (d.code !== ValidationCode.WORKDIR_IS_NOT_ABSOLUTE) return true;
    const ins = file.instructions.find((i) => i.startLine <= d.range.start.line && d.range.start.line <= i.endLine);
    if (!ins || stageOf(stages, ins)?.facts.windows !== true) return true;
    const path = ins.args.trim().replace(/^(["'])(.*)\1$/, '$2');
    if (file.escape === '`' && isWindowsAbsolute(path)) return false;
    return !findings.some((f) => f.code === 'SILO109' && f.range.start.line >= ins.startLine && f.range.start.line <= ins.endLine);
  });
}
