// Just enough of cmd.exe and PowerShell command lines for Silo's checks: where the simple commands of
// a line start, and where PowerShell's quotes are. Not a shell parser; each check stays silent on
// what this cannot read.

export interface CommandSegment {
  /** Offset of the segment's first non-blank character in the scanned text. */
  start: number;
  end: number;
  text: string;
  /** The first word, without surrounding quotes. */
  program: string;
}

/** Splits a cmd.exe line on `&&`, `||`, `&`, `|` outside double quotes (cmd has no single quotes). */
export function cmdSegments(line: string): CommandSegment[] {
  const out: CommandSegment[] = [];
  let quoted = false;
  let segStart = 0;
  const push = (end: number) => {
    const raw = line.slice(segStart, end);
    const lead = raw.length - raw.trimStart().length;
    const text = raw.trim();
    if (text !== '') {
      const first = /^("[^"]*"|\S+)/.exec(text)![0].replace(/^"|"$/g, '');
      out.push({ start: segStart + lead, end: segStart + lead + text.length, text, program: first });
    }
  };
  for (let k = 0; k < line.length; k++) {
    const c = line[k];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '^') k++; // cmd's escape character
    else if (!quoted && (c === '&' || c === '|')) {
      push(k);
      if (line[k + 1] === c) k++;
      segStart = k + 1;
    }
  }
  push(line.length);
  return out;
}

/** Lower-cased program name without directory, quotes or `.exe`. */
export function programName(word: string): string {
  return word.replace(/^["']|["']$/g, '').toLowerCase().replace(/^.*[\\/]/, '').replace(/\.exe$/, '');
}

export function isPowerShellProgram(name: string | undefined): name is 'powershell' | 'pwsh' {
  return name === 'powershell' || name === 'pwsh';
}

/** Offsets of `&&` and `||` outside PowerShell quotes (`'...'`, `"..."` with backtick escapes). */
export function pipelineChainOperators(text: string): Array<{ at: number; op: '&&' | '||' }> {
  const out: Array<{ at: number; op: '&&' | '||' }> = [];
  let quote = '';
  for (let k = 0; k < text.length; k++) {
    const c = text[k];
    if (quote) {
      if (quote === '"' && c === '`') k++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '`') k++;
    else if (c === '#' && (k === 0 || /\s/.test(text[k - 1]))) break; // a PowerShell comment
    else if ((c === '&' || c === '|') && text[k + 1] === c) {
      out.push({ at: k, op: c === '&' ? '&&' : '||' });
      k++;
    }
  }
  return out;
}

/** PowerShell's approved verbs that also start common cmdlets (Get-Verb), for `Verb-Noun` detection. */
const VERBS = new Set(
  ('add clear close copy enter exit find format get hide join lock move new open optimize pop push redo remove rename ' +
    'reset resize search select set show skip split step switch undo unlock watch connect disconnect read receive send ' +
    'write backup checkpoint compare compress convert convertfrom convertto dismount edit expand export group import ' +
    'initialize limit merge mount out publish restore save sync unpublish update debug measure ping repair resolve test ' +
    'trace approve assert build complete confirm deny deploy disable enable install invoke register request restart resume ' +
    'start stop submit suspend uninstall unregister wait block grant protect revoke unblock unprotect use foreach where sort')
    .split(' '),
);

/** Whether a cmd segment starts with PowerShell syntax: a `Verb-Noun` cmdlet, `$env:`, a `$var =` assignment, `[Type]::`. */
export function powerShellSyntax(segment: string): string | undefined {
  const t = segment.trimStart();
  const cmdlet = /^([A-Za-z]+)-([A-Za-z][A-Za-z0-9]*)(?=\s|$|;)/.exec(t);
  if (cmdlet && VERBS.has(cmdlet[1].toLowerCase()) && /^[A-Z]/.test(cmdlet[2])) return cmdlet[0];
  const env = /^\$env:[A-Za-z_][A-Za-z0-9_]*/i.exec(t);
  if (env) return env[0];
  const assign = /^\$[A-Za-z_][A-Za-z0-9_]*\s*=/.exec(t);
  if (assign) return assign[0].replace(/\s*=$/, '');
  const type = /^\[[A-Za-z][A-Za-z0-9_.]*\]::/.exec(t);
  if (type) return type[0];
  return undefined;
}
