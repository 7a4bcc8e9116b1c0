// The `silo.dockerfile` settings the server pulls per document (workspace/configuration), and their
// translation to the dockerfile-utils validator's settings. The client contributes these names:
//   silo.dockerfile.diagnostics.<key>: "ignore" | "warning" | "error"   (dockerfile-utils checks)
//   silo.dockerfile.formatter.ignoreMultilineInstructions: boolean
//   silo.dockerfile.rules.<SILOnnn>: "ignore" | "information" | "warning" | "error"   (Silo's checks)
import { ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import type { RuleSeverities } from './rules/index';

export const SETTINGS_SECTION = 'silo.dockerfile';

export type LibrarySeverity = 'ignore' | 'warning' | 'error';

/** The dockerfile-utils validator settings, by their own names (`ValidatorSettings`). */
export const VALIDATOR_KEYS = [
  'deprecatedMaintainer',
  'directiveCasing',
  'emptyContinuationLine',
  'instructionCasing',
  'instructionCmdMultiple',
  'instructionEntrypointMultiple',
  'instructionHealthcheckMultiple',
  'instructionJSONInSingleQuotes',
  'instructionWorkdirRelative',
] as const;

export type ValidatorKey = (typeof VALIDATOR_KEYS)[number];

export interface DockerfileSettings {
  diagnostics?: Partial<Record<ValidatorKey, LibrarySeverity>>;
  formatter?: { ignoreMultilineInstructions?: boolean };
  rules?: RuleSeverities;
}

function severity(v: unknown): ValidationSeverity {
  if (v === 'ignore') return ValidationSeverity.IGNORE;
  if (v === 'error') return ValidationSeverity.ERROR;
  return ValidationSeverity.WARNING;
}

/** Every key set, warnings by default (the dockerfile-language-server defaults). */
export function validatorSettings(settings: DockerfileSettings | undefined): ValidatorSettings {
  const out: ValidatorSettings = {};
  for (const key of VALIDATOR_KEYS) out[key] = severity(settings?.diagnostics?.[key]);
  return out;
}

/** Accepts whatever the client sent (null, a partial object) as settings. */
export function asSettings(value: unknown): DockerfileSettings {
  return value !== null && typeof value === 'object' ? (value as DockerfileSettings) : {};
}

const RULE_SEVERITIES = new Set(['ignore', 'information', 'warning', 'error']);

/** `silo.dockerfile.rules` with unknown values dropped (a typo keeps the check's own severity). */
export function ruleSeverities(settings: DockerfileSettings | undefined): RuleSeverities {
  const out: RuleSeverities = {};
  for (const [code, v] of Object.entries(settings?.rules ?? {})) {
    if (typeof v === 'string' && RULE_SEVERITIES.has(v)) out[code.toUpperCase()] = v as RuleSeverities[string];
  }
  return out;
}
