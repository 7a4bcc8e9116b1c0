// SILO108: a COPY/ADD destination on a drive other than C:. A Windows container's filesystem is its
// system drive; the classic builder refuses "Windows does not support COPY with a destination not on
// the system drive" (moby builder/dockerfile, Windows destination normalisation).
import { parseJsonArray, splitFlags, splitWords } from '../dockerfile/parse';
import type { Finding, Rule, RuleContext } from './rule';

const CODE = 'SILO108';

function check(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const ins of ctx.file.instructions) {
    if ((ins.keyword !== 'COPY' && ins.keyword !== 'ADD') || !/[A-Za-z]:/.test(ins.args)) continue;
    const { rest } = splitFlags(splitWords(ins.args, ctx.file.escape));
    if (rest.length < 2) continue;
    // Shell form: the last word. Exec form: the last element, located by its text.
    let destStart: number;
    let dest: string;
    const json = parseJsonArray(ins.args.slice(rest[0].start));
    if (json) {
      dest = json[json.length - 1];
      const raw = JSON.stringify(dest);
      const at = ins.args.lastIndexOf(raw);
      if (at < 0) continue;
      destStart = at + 1;
    } else {
      const last = rest[rest.length - 1];
      destStart = last.start + (/^["']/.test(last.text) ? 1 : 0);
      dest = ins.args.slice(destStart, last.end);
    }
    const m = /^([A-Za-z]):/.exec(dest);
    if (!m || m[1].toUpperCase() === 'C') continue;
    findings.push({
      code: CODE,
      range: ins.rangeOf(destStart, destStart + dest.length),
      message: `Windows containers have only the system drive C:, so ${ins.keyword} cannot write to ${m[1].toUpperCase()}:; copy to C: (mount other drives at run time).`,
      severity: 'error',
      fixes: [{ title: `Copy to C:${dest.slice(2)}`, edits: [{ range: ins.rangeOf(destStart, destStart + 1), newText: 'C' }], preferred: true }],
    });
  }
  return findings;
}

export const copyDestinationDrive: Rule = { code: CODE, title: 'COPY or ADD destination off C:', check };
