// Variable expansion in Dockerfile arguments, as the classic builder's shell lexer does it
// (moby/buildkit frontend/dockerfile/shell/lex.go): $VAR, ${VAR}, ${VAR:-default}, ${VAR:+alt},
// ${VAR-default}, ${VAR+alt}; nothing inside single quotes; the escape token makes `$` literal.
// Quotes are kept: the instruction's own parser removes them. Returns which names were read, since
// a build arg changes the cache key only where it is used.
import { invalidArgument } from '../errors';

export interface Expanded {
  value: string;
  /** Every variable name looked up. */
  used: Set<string>;
}

export function expandVariables(text: string, lookup: (name: string) => string | undefined, escape: '\\' | '`' = '\\'): Expanded {
  const used = new Set<string>();
  const get = (name: string) => {
    used.add(name);
    return lookup(name);
  };
  let out = '';
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === escape && i + 1 < text.length) {
      // An escaped `$` stays literal (the escape is dropped); other escapes are the parser's business.
      if (text[i + 1] === '$') {
        out += '$';
        i++;
      } else {
        out += c + text[++i];
      }
      continue;
    }
    if (quote === "'") {
      if (c === "'") quote = undefined;
      out += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = quote === c ? undefined : quote ?? c;
      out += c;
      continue;
    }
    if (c !== '$') {
      out += c;
      continue;
    }
    const simple = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (simple) {
      out += get(simple[0]) ?? '';
      i += simple[0].length;
      continue;
    }
    if (text[i + 1] !== '{') {
      out += c;
      continue;
    }
    const close = matchBrace(text, i + 1);
    if (close < 0) throw invalidArgument(`missing '}' in "${text}"`);
    const inner = text.slice(i + 2, close);
    i = close;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([\s\S]*))?$/.exec(inner);
    if (!m) throw invalidArgument(`bad substitution "\${${inner}}"`, 'use ${NAME}, ${NAME:-default} or ${NAME:+alternative}');
    const v = get(m[1]);
    if (!m[2]) {
      out += v ?? '';
      continue;
    }
    const word = () => {
      const e = expandVariables(m[3], lookup, escape);
      for (const u of e.used) used.add(u);
      return e.value;
    };
    const set = m[2].startsWith(':') ? v !== undefined && v !== '' : v !== undefined;
    if (m[2].endsWith('-')) out += set ? v : word();
    else out += set ? word() : '';
  }
  return { value: out, used };
}

function matchBrace(text: string, open: number): number {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === '{') depth++;
    else if (text[j] === '}' && --depth === 0) return j;
  }
  return -1;
}
