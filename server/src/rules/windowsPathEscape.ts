// SILO101: a Windows path written with the default `\` escape character. The builder treats `\` as
// an escape in WORKDIR/COPY/ADD/ENV/ARG/LABEL/VOLUME/USER words (`WORKDIR C:\app` becomes `C:app`,
// moby #27644) and a `\` at the end of a line as a line continuation (`COPY a.txt C:\` swallows the
// next line). Microsoft's Dockerfile guide: use forward slashes or `# escape=``
// (Virtualization-Documentation manage_windows_dockerfile.md; Dockerfile reference "escape").
import type { TextEdit } from 'vscode-languageserver-types';
import { looksLikeJsonArray, splitWords, type Dockerfile, type Instruction } from '../dockerfile/parse';
import { stageOf, type Stage } from '../dockerfile/stages';
import type { Finding, Fix, Rule, RuleContext } from './rule';

const CODE = 'SILO101';

/** Instructions whose words the builder unescapes (shell form). */
const WORD_PROCESSED = new Set(['WORKDIR', 'COPY', 'ADD', 'ENV', 'ARG', 'LABEL', 'VOLUME', 'USER']);
/** A character that continues a path after a separator. */
const PATH_CHAR = /[A-Za-z0-9_.\-(){}~]/;
/** A word holding a Windows path: a drive (`C:\`), or a relative `.\` / `..\`. */
const WINDOWS_PATH = /(^|[="',;])([A-Za-z]:\\|\.{1,2}\\[A-Za-z0-9_])/;

function isWordProcessed(ins: Instruction): boolean {
  return WORD_PROCESSED.has(ins.keyword) && !looksLikeJsonArray(ins.args);
}

/**
 * The position of a continuation backslash on a physical line, when it ends a Windows path: the word
 * before it has a drive (`C:\`, `C:\app\`), or, in a Windows stage, other backslashes (`tools\bin\`).
 */
function pathContinuation(line: string, windowsStage: boolean): number | undefined {
  const m = /(\S*)\\[ \t]*$/.exec(line);
  if (!m || m[1] === '') return undefined;
  const token = m[1];
  if (token.endsWith('\\')) return undefined;
  if (/(^|[="',;])[A-Za-z]:($|\\)/.test(token) || (windowsStage && token.includes('\\'))) return m.index + token.length;
  return undefined;
}

function windowsStageOf(stages: readonly Stage[], ins: Instruction): boolean {
  return stageOf(stages, ins)?.facts.windows === true;
}

/** Rewrites the file for `# escape=``: directive, continuations and escape sequences. */
export function backtickEscapeEdits(file: Dockerfile, stages: readonly Stage[]): TextEdit[] {
  const edits: TextEdit[] = [];
  const d = file.escapeDirective;
  if (d) {
    const line = file.lines[d.line];
    const at = line.lastIndexOf(d.value);
    edits.push({ range: { start: { line: d.line, character: at }, end: { line: d.line, character: at + d.value.length } }, newText: '`' });
  } else {
    edits.push({ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: '# escape=`\n' });
  }
  for (const ins of file.instructions) {
    const windows = windowsStageOf(stages, ins);
    for (const l of ins.continuationLines) {
      // A path backslash stays a backslash: under the new escape it ends the instruction, as meant.
      if (pathContinuation(file.lines[l], windows) !== undefined) continue;
      const m = /\\[ \t]*$/.exec(file.lines[l]);
      if (m) edits.push({ range: { start: { line: l, character: m.index }, end: { line: l, character: m.index + 1 } }, newText: '`' });
    }
    if (!isWordProcessed(ins)) continue;
    const a = ins.args;
    for (let k = 0; k < a.length; k++) {
      const c = a[k];
      if (c === '`') {
        edits.push({ range: ins.rangeOf(k, k + 1), newText: '``' });
      } else if (c === '\\' && k + 1 < a.length) {
        const next = a[k + 1];
        if (next === '\\') {
          edits.push({ range: ins.rangeOf(k, k + 2), newText: '\\' });
          k++;
        } else if (!PATH_CHAR.test(next)) {
          // `\$`, `\"`, `\ ` ... keep their meaning with the new escape character.
          edits.push({ range: ins.rangeOf(k, k + 1), newText: '`' });
          k++;
        }
      }
    }
  }
  return edits;
}

function forwardSlashFix(ins: Instruction, start: number, end: number): Fix | undefined {
  const range = ins.rangeOf(start, end);
  if (range.start.line !== range.end.line) return undefined;
  const word = ins.args.slice(start, end);
  const newText = word.replace(/\\\\|\\(?=[A-Za-z0-9_.\-(){}~])/g, '/');
  return { title: `Write the path with forward slashes: ${newText}`, edits: [{ range, newText }] };
}

function check(ctx: RuleContext): Finding[] {
  const { file } = ctx;
  if (file.escape !== '\\') return [];
  const findings: Finding[] = [];
  let backtick: Fix | undefined;
  const backtickFix = (): Fix => (backtick ??= { title: 'Use the backtick escape character (# escape=`)', edits: backtickEscapeEdits(file, ctx.stages) });

  for (const ins of file.instructions) {
    if (!ins.args.includes('\\') && ins.continuationLines.length === 0) continue;
    let windows: boolean | undefined;
    for (const l of ins.continuationLines) {
      windows ??= windowsStageOf(ctx.stages, ins);
      const at = pathContinuation(file.lines[l], windows);
      if (at === undefined) continue;
      findings.push({
        code: CODE,
        range: { start: { line: l, character: at }, end: { line: l, character: at + 1 } },
        message: 'This backslash ends a Windows path, but with the default escape character it continues the instruction onto the next line.',
        severity: 'warning',
        fixes: [{ ...backtickFix(), preferred: true }],
      });
    }
    if (!isWordProcessed(ins) || !ins.args.includes('\\')) continue;
    for (const w of splitWords(ins.args, '\\')) {
      if (!WINDOWS_PATH.test(w.text)) continue;
      let bad = -1;
      for (let k = 0; k < w.text.length; k++) {
        if (w.text[k] !== '\\') continue;
        const next = w.text[k + 1];
        if (next === '\\') {
          k++;
          continue;
        }
        if (next !== undefined && PATH_CHAR.test(next)) {
          bad = k;
          break;
        }
      }
      if (bad < 0) continue;
      const sample = w.text.replace(/\\(.)/g, '$1');
      const fixes: Fix[] = [];
      const slash = forwardSlashFix(ins, w.start, w.end);
      if (slash) fixes.push({ ...slash, preferred: true });
      fixes.push(backtickFix());
      findings.push({
        code: CODE,
        range: ins.rangeOf(w.start, w.end),
        message: `With the default escape character \`\\\` the builder reads this Windows path as \`${sample}\`; use forward slashes or \`# escape=\`\`.`,
        severity: 'warning',
        fixes,
      });
    }
  }
  return findings;
}

export const windowsPathEscape: Rule = { code: CODE, title: 'Windows path written with the default escape character', check };
