// SILO106: `&&` / `||` under Windows PowerShell 5.1 (`powershell`). The pipeline-chain operators exist
// only from PowerShell 7 (about_Pipeline_Chain_Operators); 5.1 stops with "The token '&&' is not a
// valid statement separator in this version."
import type { TextEdit } from 'vscode-languageserver-types';
import { looksLikeJsonArray, jsonArrayOf, type Instruction } from '../dockerfile/parse';
import { shellAt, shellProgram } from '../dockerfile/stages';
import { cmdSegments, pipelineChainOperators, programName } from '../dockerfile/shellCommands';
import type { Finding, Fix, Rule, RuleContext } from './rule';

const CODE = 'SILO106';
const SHELL_FORM = new Set(['RUN', 'CMD', 'ENTRYPOINT']);
/** `a && b` as Windows PowerShell says it: stop when the last command failed. */
const AND_THEN = '; if (-not $?) { exit 1 };';

function finding(ins: Instruction, at: number, op: '&&' | '||', fixable: boolean): Finding {
  const fixes: Fix[] = [];
  if (op === '&&' && fixable) {
    const edit: TextEdit = { range: ins.rangeOf(at, at + 2), newText: AND_THEN };
    fixes.push({ title: `Replace && with "${AND_THEN.trim()}"`, edits: [edit], preferred: true });
  }
  return {
    code: CODE,
    range: ins.rangeOf(at, at + 2),
    message: `\`${op}\` needs PowerShell 7 (pwsh); Windows PowerShell 5.1 rejects it as "not a valid statement separator".`,
    severity: 'error',
    fixes,
  };
}

function check(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const stage of ctx.stages) {
    for (const ins of stage.body) {
      if (!SHELL_FORM.has(ins.keyword) || (!ins.args.includes('&&') && !ins.args.includes('||'))) continue;
      const argv = jsonArrayOf(ins);
      if (argv) {
        // Exec form that starts Windows PowerShell itself: the operators inside its command text.
        if (programName(argv[0] ?? '') !== 'powershell') continue;
        let first = true;
        for (const lit of ins.args.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
          if (first) {
            first = false;
            continue;
          }
          const raw = lit[1];
          const value = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
          for (const op of pipelineChainOperators(value)) {
            // Offsets map one to one when the literal has no escapes; else point at the literal.
            const at = raw === value ? lit.index! + 1 + op.at : lit.index!;
            findings.push(finding(ins, at, op.op, false));
          }
        }
        continue;
      }
      if (looksLikeJsonArray(ins.args)) continue;
      const shell = shellProgram(shellAt(stage, ins));
      if (shell === 'powershell') {
        for (const op of pipelineChainOperators(ins.args)) findings.push(finding(ins, op.at, op.op, true));
      } else if (shell === 'cmd') {
        // `powershell -Command "a && b"` under cmd: the quoted text is Windows PowerShell's.
        for (const seg of cmdSegments(ins.args)) {
          if (programName(seg.program) !== 'powershell') continue;
          for (const q of seg.text.matchAll(/"([^"]*)"/g)) {
            const base = seg.start + q.index! + 1;
            for (const op of pipelineChainOperators(q[1])) findings.push(finding(ins, base + op.at, op.op, false));
          }
        }
      }
    }
  }
  return findings;
}

export const pipelineChainOperatorsRule: Rule = { code: CODE, title: '&& and || under Windows PowerShell 5.1', check };
