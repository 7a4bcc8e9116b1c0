// The shape of one Silo check: a pure function from a parsed Dockerfile (and what Silo knows of the
// host and its images) to findings with quick fixes. No transport here: server.ts turns findings into
// LSP diagnostics and code actions.
import type { Range, TextEdit } from 'vscode-languageserver-types';
import type { Dockerfile } from '../dockerfile/parse';
import type { Stage } from '../dockerfile/stages';
import type { HostFacts, ImageFact } from '../protocol';

export type Severity = 'error' | 'warning' | 'information';

export interface Fix {
  title: string;
  edits: TextEdit[];
  /** The fix to apply when several are offered (shown first, marked preferred). */
  preferred?: boolean;
}

export interface Finding {
  code: string;
  range: Range;
  message: string;
  severity: Severity;
  fixes: Fix[];
}

export interface RuleContext {
  file: Dockerfile;
  stages: Stage[];
  host?: HostFacts;
  images: readonly ImageFact[];
}

export interface Rule {
  /** `SILO` + three digits; never reused for another meaning. */
  code: string;
  /** Short name (also the doc page's title). */
  title: string;
  check(ctx: RuleContext): Finding[];
}
