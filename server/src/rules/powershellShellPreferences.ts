// SILO105: a PowerShell SHELL without `$ErrorActionPreference = 'Stop'` (a failing cmdlet does not
// fail the step, so the build goes on with a broken layer) or `$ProgressPreference =
// 'SilentlyContinue'` (progress rendering makes Invoke-WebRequest downloads very slow). The official
// images' convention (docker-library Windows variants; dotnet-docker):
// SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue';"]
import { jsonArrayOf, type Instruction } from '../dockerfile/parse';
import type { Stage } from '../dockerfile/stages';
import { isPowerShellProgram, programName } from '../dockerfile/shellCommands';
import type { Finding, Rule, RuleContext } from './rule';

const CODE = 'SILO105';
const STOP = /\$ErrorActionPreference\s*=\s*['"]?Stop\b/i;
const SILENT = /\$ProgressPreference\s*=\s*['"]?SilentlyContinue\b/i;

/** The argv with the missing preferences put in front of the `-Command` text. */
export function withPreferences(argv: readonly string[], stop: boolean, silent: boolean): string[] {
  const prefix = [stop ? '' : "$ErrorActionPreference = 'Stop';", silent ? '' : "$ProgressPreference = 'SilentlyContinue';"]
    .filter((s) => s !== '')
    .join(' ');
  const out = [...argv];
  const c = out.findIndex((a, i) => i > 0 && /^-(c|command)$/i.test(a));
  if (c < 0) out.push('-Command', prefix);
  else if (c + 1 < out.length) out[c + 1] = `${prefix} ${out[c + 1]}`;
  else out.push(prefix);
  return out;
}

/** Cmdlets whose progress rendering slows a build down (downloads, archives). */
const PROGRESS = /\b(Invoke-WebRequest|Invoke-RestMethod|iwr|irm|Start-BitsTransfer|Expand-Archive|Compress-Archive)\b/i;

/** The shell-form RUNs of the stage that run under this SHELL (up to the next SHELL). */
function runsUnder(stage: Stage, shell: Instruction): Instruction[] {
  const out: Instruction[] = [];
  for (let k = stage.body.indexOf(shell) + 1; k < stage.body.length; k++) {
    const ins = stage.body[k];
    if (ins.keyword === 'SHELL') break;
    if (ins.keyword === 'RUN' && !jsonArrayOf(ins)) out.push(ins);
  }
  return out;
}

function check(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const stage of ctx.stages) {
    for (const ins of stage.body) {
      if (ins.keyword !== 'SHELL') continue;
      const argv = jsonArrayOf(ins);
      if (!argv || !isPowerShellProgram(programName(argv[0] ?? ''))) continue;
      if (argv.some((a) => /^-(f|file|encodedcommand|e|ec)$/i.test(a))) continue;
      const text = argv.slice(1).join(' ');
      const runs = runsUnder(stage, ins);
      // Nothing runs at build time under this SHELL: the preferences change nothing.
      if (runs.length === 0) continue;
      // Set in the SHELL, or by every RUN itself (dotnet-docker's SDK Dockerfiles do the latter).
      const stop = STOP.test(text) || runs.every((r) => STOP.test(r.args));
      const silent = SILENT.test(text) || runs.every((r) => SILENT.test(r.args)) || !runs.some((r) => PROGRESS.test(r.args));
      if (stop && silent) continue;
      const missing = [stop ? '' : "$ErrorActionPreference = 'Stop'", silent ? '' : "$ProgressPreference = 'SilentlyContinue'"].filter((m) => m);
      const fixed = withPreferences(argv, STOP.test(text), SILENT.test(text));
      const range = ins.rangeOf(0, ins.args.trimEnd().length);
      findings.push({
        code: CODE,
        range,
        message: `This PowerShell SHELL does not set ${missing.join(' or ')}: ${
          stop ? 'downloads and archives render a progress bar that makes them very slow' : 'a failing cmdlet does not fail the step'
        }.`,
        severity: stop ? 'information' : 'warning',
        fixes: [{ title: `Add ${missing.join('; ')}`, edits: [{ range, newText: `[${fixed.map((a) => JSON.stringify(a)).join(', ')}]` }], preferred: true }],
      });
    }
  }
  return findings;
}

export const powershellShellPreferences: Rule = { code: CODE, title: 'PowerShell SHELL without error and progress preferences', check };
