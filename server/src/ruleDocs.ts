// Where a rule's one-page doc lives: docs/rules/SILOnnn.md shipped in the extension, linked from each
// diagnostic's `codeDescription.href` as a file URI, so a click opens the page in the editor. The
// client may pass the folder's URI as `initializationOptions.ruleDocsUri`; otherwise the server finds
// docs/rules next to itself (dist/server.js -> <extension>/docs/rules; server/src -> <repo>/docs/rules).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export function findRuleDocsUri(start: string = __dirname): string | undefined {
  let dir = start;
  for (;;) {
    const candidate = join(dir, 'docs', 'rules');
    if (existsSync(join(candidate, 'SILO101.md'))) return `${pathToFileURL(candidate).href}/`;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export function ruleDocUri(base: string | undefined, code: string): string | undefined {
  if (!base) return undefined;
  return `${base.endsWith('/') ? base : `${base}/`}${code}.md`;
}
