// The `created_by` line of each build step, as Docker's classic builder writes it, so `history` of a
// Silo-built image reads the same as Docker's (moby builder/dockerfile dispatchers.go, 20.10):
//   metadata step   <shell> #(nop)  <KEYWORD> <value as Go prints it>     (withCmdComment: two words)
//   COPY/ADD/WORKDIR <shell> #(nop) <KEYWORD> ...                         (withCmdCommentString: one)
// where <shell> is the stage's SHELL at that point (default `/bin/sh -c`, `cmd /S /C` on Windows).
import type { ContainerConfig } from '../image/types';

/** Go's strconv.Quote for the strings Dockerfiles hold. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x80 || (c >= 0x80 && c < 0xa0)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Go's `%q` of a []string: `["a" "b"]`; of a nil slice `[]`. */
export function goQuoteList(list: readonly string[] | null | undefined): string {
  return `[${(list ?? []).map(goQuote).join(' ')}]`;
}

/** Go's time.Duration.String(). */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let n = Math.abs(ns);
  if (n < 1e9) {
    const [unit, div] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    return `${sign}${trimFraction(n / div)}${unit}`;
  }
  const h = Math.floor(n / 3600e9);
  n -= h * 3600e9;
  const m = Math.floor(n / 60e9);
  n -= m * 60e9;
  const s = `${trimFraction(n / 1e9)}s`;
  return `${sign}${h ? `${h}h${m}m` : m ? `${m}m` : ''}${s}`;
}

function trimFraction(x: number): string {
  return x.toFixed(9).replace(/\.?0+$/, '');
}

/** Go's strconv.QuoteRune, for `%q` of an int (the Retries of a HEALTHCHECK). */
function goQuoteRune(n: number): string {
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 39: "\\'", 92: '\\\\' };
  if (named[n]) return `'${named[n]}'`;
  if (n >= 0x20 && n < 0x7f) return `'${String.fromCharCode(n)}'`;
  if (n < 0x100) return `'\\x${n.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCodePoint(n)}'`;
}

/** `%q` of a *container.HealthConfig: `&{["CMD-SHELL" "true"] "5s" "0s" "0s" '\x02'}`. */
export function goHealthcheck(h: NonNullable<ContainerConfig['Healthcheck']>): string {
  const d = (ns: number | undefined) => goQuote(goDuration(ns ?? 0));
  return `&{${goQuoteList(h.Test)} ${d(h.Interval)} ${d(h.Timeout)} ${d(h.StartPeriod)} ${goQuoteRune(h.Retries ?? 0)}}`;
}

/** A metadata-only step's line (dispatchers.go `d.builder.commit(d.state, commitStr)`). */
export function metadataHistory(shell: readonly string[], comment: string): string {
  return `${shell.join(' ')} #(nop)  ${comment}`;
}

/** A COPY, ADD or WORKDIR step's line (a layer, `withCmdCommentString`). */
export function layerHistory(shell: readonly string[], comment: string): string {
  return `${shell.join(' ')} #(nop) ${comment}`;
}
