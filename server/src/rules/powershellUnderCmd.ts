// SILO104: PowerShell syntax in a shell-form step whose shell is `cmd /S /C`, the Windows default
// (Virtualization-Documentation manage_windows_dockerfile.md). cmd answers "'Invoke-WebRequest' is not
// recognized as an internal or external command". Only fires where the shell is known to be cmd:
// an explicit `SHELL ["cmd", ...]`, or a base image whose config sets no shell.
import type { TextEdit } from 'vscode-languageserver-types';
import { looksLikeJsonArray } from '../dockerfile/parse';
import { shellAt, shellProgram } from '../dockerfile/stages';
import { cmdSegments, powerShellSyntax } from '../dockerfile/shellCommands';
import type { Finding, Fix, Rule, RuleContext } from './rule';

const CODE = 'SILO104';
const SHELL_FORM = new Set(['RUN', 'CMD', 'ENTRYPOINT']);

function check(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const stage of ctx.stages) {
    if (stage.facts.windows !== true) continue;
    for (const ins of stage.body) {
      if (!SHELL_FORM.has(ins.keyword) || looksLikeJsonArray(ins.args)) continue;
      if (ins.keyword === 'RUN' && ins.args.trimStart().startsWith('--')) continue; // flags: BuildKit-only, leave alone
      if (shellProgram(shellAt(stage, ins)) !== 'cmd') continue;
      for (const seg of cmdSegments(ins.args)) {
        const syntax = powerShellSyntax(seg.text);
        if (!syntax) continue;
        const fixes: Fix[] = [];
        const whole = cmdSegments(ins.args);
        if (stage.facts.windowsPowerShell === true && whole.length === 1 && !ins.args.includes('"')) {
          const at = ins.positionAt(seg.start);
          const edit: TextEdit = { range: { start: at, end: at }, newText: 'powershell -Command ' };
          fixes.push({ title: 'Run this step with powershell -Command', edits: [edit], preferred: true });
        }
        findings.push({
          code: CODE,
          range: ins.rangeOf(seg.start, seg.start + syntax.length),
          message: `\`${syntax}\` is PowerShell, but this ${ins.keyword} runs under cmd /S /C (the Windows default shell); start the command with \`powershell -Command\` or set SHELL.`,
          severity: 'error',
          fixes,
        });
      }
    }
  }
  return findings;
}

export const powershellUnderCmd: Rule = { code: CODE, title: 'PowerShell syntax under cmd', check };
