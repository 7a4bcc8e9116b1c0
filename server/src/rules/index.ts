// Silo's own Dockerfile checks, in code order. `checkDockerfile` is the whole pipeline a caller needs:
// parse, resolve stages, run each rule, apply severity settings and skip directives.
import { parseDockerfile, type Dockerfile } from '../dockerfile/parse';
import { resolveStages, type Stage } from '../dockerfile/stages';
import type { HostFacts, ImageFact } from '../protocol';
import { copyDestinationDrive } from './copyDestinationDrive';
import { execFormEscapes } from './execFormEscapes';
import { hostCompatibility } from './hostCompatibility';
import { pipelineChainOperatorsRule } from './pipelineChainOperators';
import { powershellOnNanoServer } from './powershellOnNanoServer';
import { powershellShellPreferences } from './powershellShellPreferences';
import { powershellUnderCmd } from './powershellUnderCmd';
import { relativeWorkdir } from './relativeWorkdir';
import type { Finding, Rule, RuleContext, Severity } from './rule';
import { scratchForWindows } from './scratchForWindows';
import { isSkipped, readSkipDirectives } from './skipDirectives';
import { windowsLatestTag } from './windowsLatestTag';
import { windowsPathEscape } from './windowsPathEscape';

export type { Finding, Fix, Rule, Severity } from './rule';

export const rules: readonly Rule[] = [
  windowsPathEscape,
  execFormEscapes,
  powershellOnNanoServer,
  powershellUnderCmd,
  powershellShellPreferences,
  pipelineChainOperatorsRule,
  scratchForWindows,
  copyDestinationDrive,
  relativeWorkdir,
  windowsLatestTag,
  hostCompatibility,
];

/** Per-code severity from the `silo.dockerfile.rules` setting; `ignore` turns a check off. */
export type RuleSeverities = Partial<Record<string, Severity | 'ignore'>>;

export interface CheckOptions {
  host?: HostFacts;
  images?: readonly ImageFact[];
  severities?: RuleSeverities;
}

export interface CheckResult {
  file: Dockerfile;
  stages: Stage[];
  findings: Finding[];
}

export function checkDockerfile(text: string, options: CheckOptions = {}): CheckResult {
  const file = parseDockerfile(text);
  const images = options.images ?? [];
  const ctx: RuleContext = { file, stages: resolveStages(file, images), host: options.host, images };
  const skips = readSkipDirectives(file);
  const findings: Finding[] = [];
  for (const rule of rules) {
    const setting = options.severities?.[rule.code];
    if (setting === 'ignore') continue;
    for (const f of rule.check(ctx)) {
      if (isSkipped(skips, file, f)) continue;
      findings.push(setting ? { ...f, severity: setting } : f);
    }
  }
  return { file, stages: ctx.stages, findings };
}
