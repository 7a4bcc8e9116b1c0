// SILO109: a relative WORKDIR in a Windows stage, including the drive-relative `C:app` (relative to
// the current directory on C:, a Windows path rule). A relative WORKDIR depends on every WORKDIR
// before it, also the base image's (BuildKit WorkdirRelativePath; hadolint DL3000).
import { looksLikeJsonArray } from '../dockerfile/parse';
import type { Finding, Rule, RuleContext } from './rule';

const CODE = 'SILO109';

/** Absolute on Windows: `C:\`, `C:/`, rooted `\` or `/`; variables are left alone. */
export function isWindowsAbsolute(path: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(path) || /^[\\/]/.test(path) || /^[$%]/.test(path);
}

function check(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const stage of ctx.stages) {
    if (stage.facts.windows !== true) continue;
    for (const ins of stage.body) {
      if (ins.keyword !== 'WORKDIR' || looksLikeJsonArray(ins.args)) continue;
      const raw = ins.args.trimEnd();
      const quoted = /^(["']).*\1$/.test(raw);
      const path = quoted ? raw.slice(1, -1) : raw;
      if (path === '' || isWindowsAbsolute(path)) continue;
      const start = quoted ? 1 : 0;
      const sep = ctx.file.escape === '`' ? '\\' : '/';
      const driveRelative = /^[A-Za-z]:/.test(path);
      const fixed = driveRelative ? `${path.slice(0, 2)}${sep}${path.slice(2)}` : `C:${sep}${path}`;
      findings.push({
        code: CODE,
        range: ins.rangeOf(start, start + path.length),
        message: driveRelative
          ? `\`${path}\` is relative to the current directory on ${path.slice(0, 2)}, not a path from its root; write ${fixed}.`
          : `WORKDIR \`${path}\` is relative, so where it lands depends on earlier WORKDIRs (also the base image's); use an absolute path such as ${fixed}.`,
        severity: 'warning',
        fixes: [{ title: `Use ${fixed}`, edits: [{ range: ins.rangeOf(start, start + path.length), newText: fixed }], preferred: true }],
      });
    }
  }
  return findings;
}

export const relativeWorkdir: Rule = { code: CODE, title: 'Relative WORKDIR in a Windows stage', check };
