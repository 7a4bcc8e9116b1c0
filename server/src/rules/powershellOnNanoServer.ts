// SILO103: PowerShell on a Nano Server stage. Nano Server ships neither Windows PowerShell nor (except
// in images that add it, such as the .NET SDK and PowerShell images) PowerShell 7
// (Virtualization-Documentation container-base-images.md: "PowerShell, WMI and the servicing stack are
// absent"). The stage is resolved through `FROM <stage>` chains to the image it starts from.
import type { TextEdit } from 'vscode-languageserver-types';
import { jsonArrayOf, type Instruction } from '../dockerfile/parse';
import { chainBodies, type Stage } from '../dockerfile/stages';
import { cmdSegments, isPowerShellProgram, programName } from '../dockerfile/shellCommands';
import type { Finding, Fix, Rule, RuleContext } from './rule';

const CODE = 'SILO103';

/** The stage at the root of a chain (the one whose FROM names the image). */
function rootStage(stage: Stage): Stage {
  return stage.parent ? rootStage(stage.parent) : stage;
}

/** An earlier COPY/ADD/ENV of the chain that brings PowerShell 7 in (the PowerShell image's own pattern). */
function pwshCopiedIn(stage: Stage, before: Instruction): boolean {
  for (const ins of chainBodies(stage)) {
    if (ins === before) break;
    if ((ins.keyword === 'COPY' || ins.keyword === 'ADD' || ins.keyword === 'ENV') && /powershell|pwsh/i.test(ins.args)) return true;
  }
  return false;
}

/** Rewrites the root FROM from Nano Server to Server Core (same release), when the reference says how. */
function serverCoreFix(stage: Stage): Fix | undefined {
  const root = rootStage(stage);
  const w = root.baseWord;
  if (!w) return undefined;
  let replaced: string | undefined;
  if (/windows\/nanoserver/i.test(w.text)) replaced = w.text.replace(/windows\/nanoserver/i, 'windows/servercore');
  else if (/nanoserver/i.test(w.text) && /mcr\.microsoft\.com\/dotnet\//i.test(w.text)) replaced = w.text.replace(/nanoserver/i, 'windowsservercore');
  if (!replaced || replaced.includes('$')) return undefined;
  const edit: TextEdit = { range: root.from.rangeOf(w.start, w.end), newText: replaced };
  return { title: `Base the stage on Server Core: ${replaced}`, edits: [edit] };
}

function check(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const stage of ctx.stages) {
    if (stage.facts.family !== 'nanoserver') continue;
    for (const ins of stage.body) {
      const uses: Array<{ program: 'powershell' | 'pwsh'; start: number; end: number }> = [];
      if (ins.keyword === 'SHELL' || ins.keyword === 'RUN') {
        const argv = jsonArrayOf(ins);
        if (argv) {
          const p = programName(argv[0] ?? '');
          if (isPowerShellProgram(p)) uses.push({ program: p, start: 0, end: ins.args.trimEnd().length });
        } else if (ins.keyword === 'RUN') {
          for (const seg of cmdSegments(ins.args)) {
            const p = programName(seg.program);
            if (isPowerShellProgram(p)) uses.push({ program: p, start: seg.start, end: seg.start + seg.program.length + (seg.text.startsWith('"') ? 2 : 0) });
          }
        }
      }
      for (const use of uses) {
        if (use.program === 'pwsh' && (stage.facts.pwsh !== false || pwshCopiedIn(stage, ins))) continue;
        const fixes: Fix[] = [];
        if (use.program === 'powershell' && stage.facts.pwsh === true) {
          const text = ins.args.slice(use.start, use.end);
          const edit: TextEdit = { range: ins.rangeOf(use.start, use.end), newText: text.replace(/powershell(\.exe)?/i, 'pwsh') };
          fixes.push({ title: 'Use PowerShell 7 (pwsh), which this image ships', edits: [edit], preferred: true });
        }
        const core = serverCoreFix(stage);
        if (core) fixes.push(core);
        const what = use.program === 'powershell' ? 'Windows PowerShell' : 'PowerShell 7 (pwsh)';
        findings.push({
          code: CODE,
          range: ins.rangeOf(use.start, use.end),
          message: `${what} is not in this Nano Server image (stage ${stage.name ?? stage.index}), so this ${ins.keyword} fails; use a Server Core stage for PowerShell steps${use.program === 'powershell' && stage.facts.pwsh === true ? ', or pwsh' : ''}.`,
          severity: 'error',
          fixes,
        });
      }
    }
  }
  return findings;
}

export const powershellOnNanoServer: Rule = { code: CODE, title: 'PowerShell on Nano Server', check };
