// SILO102: exec form (a JSON array) with backslashes JSON does not accept. Invalid JSON is not an
// error for the builder: it silently runs the text in shell form (Dockerfile reference, "Exec form":
// `RUN ["c:\windows\system32\tasklist.exe"]` is not valid JSON). A path like `"C:\tools"` is valid
// JSON but means C:<tab>ools. Either way the fix is to double the backslash or use `/`.
import type { TextEdit } from 'vscode-languageserver-types';
import { looksLikeJsonArray, splitFlags, splitWords, type Dockerfile, type Instruction } from '../dockerfile/parse';
import type { Finding, Fix, Rule, RuleContext } from './rule';

const CODE = 'SILO102';
const EXEC_FORM = new Set(['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'VOLUME', 'COPY', 'ADD', 'HEALTHCHECK']);
const DRIVE = /[A-Za-z]:\\/;

interface BadEscape {
  /** Offset of the backslash in the instruction's args. */
  at: number;
  /** `invalid`: JSON rejects it; `control`: valid JSON that turns a path into a control character. */
  kind: 'invalid' | 'control';
}

/** Where the JSON array starts in the arguments (after flags, and after HEALTHCHECK's `CMD`). */
function jsonStart(ins: Instruction, file: Dockerfile): number | undefined {
  const words = splitWords(ins.args, file.escape);
  let { rest } = splitFlags(words);
  if (ins.keyword === 'HEALTHCHECK') {
    if (rest[0]?.text.toUpperCase() !== 'CMD') return undefined;
    rest = rest.slice(1);
  }
  return rest[0]?.start;
}

interface JsonString {
  start: number;
  end: number;
  bad: BadEscape[];
}

/** The string literals of a JSON-looking array with their questionable escapes. */
function scanStrings(a: string, from: number): JsonString[] {
  const strings: JsonString[] = [];
  let k = from;
  while (k < a.length) {
    if (a[k] !== '"') {
      k++;
      continue;
    }
    const s: JsonString = { start: k, end: k, bad: [] };
    k++;
    while (k < a.length && a[k] !== '"') {
      if (a[k] === '\\') {
        const next = a[k + 1];
        if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(a.slice(k + 2, k + 6))) k += 6;
        else if (next !== undefined && '"\\/'.includes(next)) k += 2;
        else if (next !== undefined && 'bfnrt'.includes(next)) {
          if (/[A-Za-z0-9_.\-:]/.test(a[k - 1] ?? '') && /[A-Za-z0-9_]/.test(a[k + 2] ?? '')) s.bad.push({ at: k, kind: 'control' });
          k += 2;
        } else {
          s.bad.push({ at: k, kind: 'invalid' });
          k += 1;
        }
        continue;
      }
      k++;
    }
    s.end = Math.min(k + 1, a.length);
    strings.push(s);
    k++;
  }
  return strings;
}

function check(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const ins of ctx.file.instructions) {
    // No backslash, no bad escape: most instructions stop here.
    if (!EXEC_FORM.has(ins.keyword) || !ins.args.includes('\\') || !ins.args.includes('[')) continue;
    const start = jsonStart(ins, ctx.file);
    if (start === undefined) continue;
    const a = ins.args;
    const json = a.slice(start);
    if (!looksLikeJsonArray(json)) continue;
    const strings = scanStrings(a, start);
    let bad: BadEscape[] = [];
    for (const s of strings) {
      const text = a.slice(s.start, s.end);
      // Control escapes are only suspect inside a Windows path; invalid ones always matter.
      bad = bad.concat(s.bad.filter((b) => b.kind === 'invalid' || DRIVE.test(text)));
    }
    const invalid = bad.filter((b) => b.kind === 'invalid');
    if (invalid.length > 0) {
      // Only when the backslashes are why the JSON fails: doubling them must make it an array.
      // The fix also doubles the control escapes of a path (`C:\tools`): valid JSON, wrong path.
      const doubled = doubleEdits(a, bad.map((b) => b.at));
      // (An invalid escape always makes JSON.parse fail, so no need to try the text as it is.)
      if (!parsesAfter(json, start, bad.map((b) => b.at))) continue;
      findings.push({
        code: CODE,
        range: ins.rangeOf(start, a.trimEnd().length),
        message: `This ${ins.keyword} is not valid JSON (a single \`\\\` before \`${a[invalid[0].at + 1]}\`), so the builder silently runs it in shell form; double the backslashes or use \`/\`.`,
        severity: 'warning',
        fixes: fixesFor(ins, a, strings, bad, doubled),
      });
    } else if (bad.length > 0 && parsesAfter(json, start, [])) {
      const b = bad[0];
      findings.push({
        code: CODE,
        range: ins.rangeOf(b.at, b.at + 2),
        message: `In JSON \`\\${a[b.at + 1]}\` is a control character, not a path separator; double the backslash or use \`/\`.`,
        severity: 'warning',
        fixes: fixesFor(ins, a, strings, bad, doubleEdits(a, bad.map((x) => x.at))),
      });
    }
  }
  return findings;
}

function parsesAfter(json: string, start: number, ats: number[]): boolean {
  let out = '';
  let last = 0;
  for (const at of ats) {
    out += json.slice(last, at - start) + '\\';
    last = at - start;
  }
  out += json.slice(last);
  try {
    const v: unknown = JSON.parse(out);
    return Array.isArray(v) && v.every((x) => typeof x === 'string');
  } catch {
    return false;
  }
}

function doubleEdits(_a: string, ats: number[]): Array<{ at: number; newText: string; length: number }> {
  return ats.map((at) => ({ at, newText: '\\\\', length: 1 }));
}

function fixesFor(
  ins: Instruction,
  a: string,
  strings: JsonString[],
  bad: BadEscape[],
  doubled: Array<{ at: number; newText: string; length: number }>,
): Fix[] {
  const toEdits = (list: Array<{ at: number; newText: string; length: number }>): TextEdit[] =>
    list.map((e) => ({ range: ins.rangeOf(e.at, e.at + e.length), newText: e.newText }));
  // Forward slashes: every path backslash (a bad single one, or a `\\` pair) in the strings at fault.
  const slashes: Array<{ at: number; newText: string; length: number }> = [];
  const badAt = new Set(bad.map((b) => b.at));
  for (const s of strings) {
    if (!s.bad.some((b) => badAt.has(b.at))) continue;
    for (let k = s.start + 1; k < s.end - 1; k++) {
      if (a[k] !== '\\') continue;
      if (badAt.has(k)) slashes.push({ at: k, newText: '/', length: 1 });
      else if (a[k + 1] === '\\') {
        slashes.push({ at: k, newText: '/', length: 2 });
        k++;
      } else k++;
    }
  }
  return [
    { title: 'Double the backslashes', edits: toEdits(doubled), preferred: true },
    { title: 'Use forward slashes', edits: toEdits(slashes) },
  ];
}

export const execFormEscapes: Rule = { code: CODE, title: 'Backslashes in exec form JSON', check };
