// The part of Go's text/template that docker's `--format` users write, with docker's template functions
// (docker/cli templates/templates.go: json, join, split, lower, upper, title, pad, truncate, println)
// and Go's builtins (index, len, print, printf, println, eq, ne, lt, le, gt, ge, and, or, not). Actions:
// {{pipeline}}, if / else if / else, range (with $i, $v :=), with, end, comments, {{- -}} trimming,
// variables ($, $name). Values print as Go's fmt %v prints the JSON docker decodes: slices [a b],
// maps map[k:v] (keys sorted), null <nil>, a missing key <no value>.
import { invalidArgument } from '../errors';

type Value = unknown;

type Node =
  | { t: 'text'; text: string }
  | { t: 'action'; pipe: Pipeline }
  | { t: 'if'; pipe: Pipeline; body: Node[]; other: Node[] }
  | { t: 'with'; pipe: Pipeline; body: Node[]; other: Node[] }
  | { t: 'range'; pipe: Pipeline; vars: string[]; body: Node[]; other: Node[] };

interface Pipeline {
  decl: string[];
  cmds: Operand[][];
}

type Operand =
  | { t: 'field'; base: 'dot' | string; path: string[] }
  | { t: 'lit'; value: Value }
  | { t: 'ident'; name: string }
  | { t: 'sub'; pipe: Pipeline; path: string[] };

const MISSING = Symbol('no value');

/**
 * A null where docker's structs have a slice or a map: docker's CLI runs templates over its typed
 * structs, where such a nil prints [] or map[] (a nil pointer prints <nil>). The JSON alone cannot
 * tell them apart, so the fields docker declares as slices and maps are named here.
 */
const NIL_SLICE = Symbol('nil slice');
const NIL_MAP = Symbol('nil map');
const SLICE_FIELDS = new Set(['Cmd', 'Entrypoint', 'Env', 'Shell', 'OnBuild', 'Args', 'Mounts', 'Binds', 'Links', 'Dns', 'DnsOptions',
  'DnsSearch', 'ExtraHosts', 'CapAdd', 'CapDrop', 'GroupAdd', 'SecurityOpt', 'Devices', 'Layers', 'RepoTags', 'RepoDigests', 'Aliases',
  'VolumesFrom', 'DeviceRequests', 'DeviceCgroupRules', 'Ulimits', 'BlkioWeightDevice', 'ConsoleSize']);
const MAP_FIELDS = new Set(['Labels', 'Volumes', 'ExposedPorts', 'Ports', 'PortBindings', 'Networks', 'Sysctls', 'StorageOpt', 'Tmpfs',
  'Options', 'DriverOpts', 'Annotations']);

function bad(why: string): Error {
  return invalidArgument(`template: ${why}`, 'see https://docs.docker.com/go/formatting/ for the format syntax');
}

// ---- lexing and parsing

type Tok = { k: 'field' | 'chain' | 'var' | 'ident' | 'str' | 'num' | 'pipe' | 'lp' | 'rp' | 'decl' | 'comma'; v: string };

const FIELD = /\.(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)?/y;
const VARIABLE = /\$(?:[A-Za-z_]\w*)?(?:\.[A-Za-z_]\w*)*/y;

function lexAction(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const ident = /[A-Za-z_][A-Za-z0-9_]*/y;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '|') { toks.push({ k: 'pipe', v: c }); i++; continue; }
    if (c === '(') { toks.push({ k: 'lp', v: c }); i++; continue; }
    if (c === ')') { toks.push({ k: 'rp', v: c }); i++; continue; }
    if (c === ',') { toks.push({ k: 'comma', v: c }); i++; continue; }
    if (src.startsWith(':=', i)) { toks.push({ k: 'decl', v: ':=' }); i += 2; continue; }
    if (src.startsWith('=', i)) { toks.push({ k: 'decl', v: '=' }); i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw bad('unterminated quoted string');
      toks.push({ k: 'str', v: JSON.parse(src.slice(i, j + 1)) as string });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw bad('unterminated raw quoted string');
      toks.push({ k: 'str', v: src.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (c === '.' || c === '$') {
      // ., .A.B, $, $x, $x.A
      const re = c === '.' ? FIELD : VARIABLE;
      re.lastIndex = i;
      const v = re.exec(src)![0];
      // `(pipeline).Field`: a field of what the parentheses give.
      const chained = c === '.' && src[i - 1] === ')';
      toks.push({ k: chained ? 'chain' : c === '.' ? 'field' : 'var', v });
      i += v.length;
      continue;
    }
    const num = /-?\d+(\.\d+)?/y;
    num.lastIndex = i;
    const n = num.exec(src);
    if (n) { toks.push({ k: 'num', v: n[0] }); i += n[0].length; continue; }
    ident.lastIndex = i;
    const m = ident.exec(src);
    if (m) { toks.push({ k: 'ident', v: m[0] }); i += m[0].length; continue; }
    throw bad(`unexpected "${c}" in action`);
  }
  return toks;
}

function fieldOperand(tok: Tok): Operand {
  if (tok.k === 'field') return { t: 'field', base: 'dot', path: tok.v === '.' ? [] : tok.v.slice(1).split('.') };
  const [name, ...path] = tok.v.slice(1).split('.');
  return { t: 'field', base: `$${name}`, path };
}

function parsePipeline(toks: Tok[], at = { i: 0 }, inParens = false): Pipeline {
  const decl: string[] = [];
  // $x := ... or $i, $v := ...
  const save = at.i;
  const names: string[] = [];
  while (toks[at.i]?.k === 'var' && !toks[at.i].v.includes('.', 1)) {
    names.push(toks[at.i].v);
    at.i++;
    if (toks[at.i]?.k === 'comma') { at.i++; continue; }
    break;
  }
  if (names.length && toks[at.i]?.k === 'decl') { decl.push(...names); at.i++; } else at.i = save;
  const cmds: Operand[][] = [];
  let cmd: Operand[] = [];
  for (; at.i < toks.length; at.i++) {
    const tok = toks[at.i];
    if (tok.k === 'rp') {
      if (!inParens) throw bad('unexpected ")"');
      break;
    }
    if (tok.k === 'pipe') {
      if (!cmd.length) throw bad('missing command before "|"');
      cmds.push(cmd);
      cmd = [];
      continue;
    }
    if (tok.k === 'lp') {
      at.i++;
      const pipe = parsePipeline(toks, at, true);
      if (toks[at.i]?.k !== 'rp') throw bad('unclosed "("');
      const chain = toks[at.i + 1]?.k === 'chain' ? toks[++at.i].v.slice(1).split('.') : [];
      cmd.push({ t: 'sub', pipe, path: chain });
      continue;
    }
    if (tok.k === 'field' || tok.k === 'var') cmd.push(fieldOperand(tok));
    else if (tok.k === 'str') cmd.push({ t: 'lit', value: tok.v });
    else if (tok.k === 'num') cmd.push({ t: 'lit', value: Number(tok.v) });
    else if (tok.k === 'ident') {
      if (tok.v === 'true' || tok.v === 'false') cmd.push({ t: 'lit', value: tok.v === 'true' });
      else if (tok.v === 'nil') cmd.push({ t: 'lit', value: null });
      else cmd.push({ t: 'ident', name: tok.v });
    } else throw bad(`unexpected "${tok.v}"`);
  }
  if (cmd.length) cmds.push(cmd);
  if (!cmds.length) throw bad('missing value for command');
  return { decl, cmds };
}

/** Parses a template into its nodes. */
function parseTemplate(src: string): Node[] {
  // Split into text and actions, applying {{- and -}} trimming.
  const parts: Array<{ text: string } | { action: string }> = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) { parts.push({ text: src.slice(i) }); break; }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start) || src.startsWith('-\n', start)) { text = text.replace(/\s+$/, ''); start += 1; }
    const close = src.indexOf('}}', start);
    if (close < 0) throw bad('unclosed action');
    let end = close;
    let next = close + 2;
    if (/\s-$/.test(src.slice(start, close))) {
      end = close - 1;
      while (next < src.length && /\s/.test(src[next])) next++;
    }
    if (text) parts.push({ text });
    parts.push({ action: src.slice(start, end).trim() });
    i = next;
  }

  let k = 0;
  const actionAt = (j: number): string | undefined => {
    const part = parts[j];
    return part && 'action' in part ? part.action : undefined;
  };
  const keyword = (a: string) => /^[a-z]+/.exec(a)?.[0] ?? '';
  /** Nodes up to an {{else}} or {{end}} (left at parts[k]) or the end of the template. */
  const block = (): Node[] => {
    const nodes: Node[] = [];
    while (k < parts.length) {
      const part = parts[k];
      if ('text' in part) {
        nodes.push({ t: 'text', text: part.text });
        k++;
        continue;
      }
      const a = part.action;
      const word = keyword(a);
      if (word === 'else' || word === 'end') return nodes;
      k++;
      if (a.startsWith('/*')) continue;
      if (word === 'if' || word === 'with' || word === 'range') nodes.push(control(word, a.slice(word.length)));
      else nodes.push({ t: 'action', pipe: parsePipeline(lexAction(a)) });
    }
    return nodes;
  };
  /** An if/with/range whose opening action was just passed; consumes through its {{end}}. */
  const control = (word: 'if' | 'with' | 'range', pipeSrc: string): Node => {
    const pipe = parsePipeline(lexAction(pipeSrc));
    const body = block();
    const ended = actionAt(k);
    if (ended === undefined) throw bad(`unexpected EOF: {{${word}}} without {{end}}`);
    k++;
    let other: Node[] = [];
    if (keyword(ended) === 'else') {
      const rest = ended.slice(4).trim();
      if (rest.startsWith('if ') && word === 'if') {
        other = [control('if', rest.slice(2))]; // else if: shares this block's {{end}}
      } else {
        other = block();
        if (keyword(actionAt(k) ?? '') !== 'end') throw bad(`{{${word}}} without {{end}}`);
        k++;
      }
    }
    if (word === 'range') return { t: 'range', pipe, vars: pipe.decl, body, other };
    return word === 'if' ? { t: 'if', pipe, body, other } : { t: 'with', pipe, body, other };
  };
  const top = block();
  if (k < parts.length) throw bad(`unexpected {{${actionAt(k)}}}`);
  return top;
}

// ---- values as Go prints them

/** fmt's %v of a decoded JSON value. */
function formatValue(v: Value): string {
  if (v === MISSING) return '<no value>';
  if (v === NIL_SLICE) return '[]';
  if (v === NIL_MAP) return 'map[]';
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, Value>;
    return `map[${Object.keys(o).sort().map((key) => `${key}:${formatValue(o[key])}`).join(' ')}]`;
  }
  return String(v);
}

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false. */
function truthy(v: Value): boolean {
  if (v === MISSING || v === NIL_SLICE || v === NIL_MAP || v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/** fmt.Sprintf for the verbs templates use: %s %v %d %q %t %x %%. */
function sprintf(format: string, args: Value[]): string {
  let n = 0;
  return format.replace(/%([-+ #0]*\d*(?:\.\d+)?)([svdqtx%])/g, (all, flags: string, verb: string) => {
    if (verb === '%') return '%';
    if (n >= args.length) return `%!${verb}(MISSING)`;
    const a = args[n++];
    let out: string;
    if (verb === 'd') out = typeof a === 'number' ? String(Math.trunc(a)) : `%!d(${formatValue(a)})`;
    else if (verb === 'q') out = JSON.stringify(formatValue(a));
    else if (verb === 'x') out = typeof a === 'number' ? a.toString(16) : Buffer.from(formatValue(a)).toString('hex');
    else out = formatValue(a);
    const width = /\d+/.exec(flags.split('.')[0] ?? '')?.[0];
    if (width) out = flags.includes('-') ? out.padEnd(Number(width)) : out.padStart(Number(width));
    return out;
  });
}

function lengthOf(v: Value): number {
  if (v === NIL_SLICE || v === NIL_MAP) return 0;
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  if (v && typeof v === 'object') return Object.keys(v).length;
  throw bad(`len of ${formatValue(v)}`);
}

function compare(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw bad(`incompatible types for comparison: ${formatValue(a)} and ${formatValue(b)}`);
}

const FUNCS: Record<string, (...args: Value[]) => Value> = {
  // docker/cli templates
  json: (v) => JSON.stringify(typeof v === 'symbol' ? null : v) ?? 'null',
  join: (list, sep) => (Array.isArray(list) ? list.map(formatValue).join(String(sep)) : formatValue(list)),
  split: (s, sep) => String(s).split(String(sep)),
  lower: (s) => formatValue(s).toLowerCase(),
  upper: (s) => formatValue(s).toUpperCase(),
  title: (s) => formatValue(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  pad: (s, l, r) => ' '.repeat(Number(l)) + formatValue(s) + ' '.repeat(Number(r)),
  truncate: (s, n) => [...formatValue(s)].slice(0, Number(n)).join(''),
  // Go builtins
  len: (v) => lengthOf(v),
  index: (v, ...keys) => {
    let cur = v;
    for (const key of keys) {
      if (Array.isArray(cur)) {
        if (typeof key !== 'number' || key < 0 || key >= cur.length) throw bad(`error calling index: index out of range: ${formatValue(key)}`);
        cur = cur[key];
      } else if (cur && typeof cur === 'object') {
        const o = cur as Record<string, Value>;
        cur = Object.prototype.hasOwnProperty.call(o, String(key)) ? o[String(key)] : MISSING;
      } else {
        throw bad(`error calling index: cannot index ${formatValue(cur)}`);
      }
    }
    return cur;
  },
  print: (...args) => args.map((a, i) => (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string' ? ' ' : '') + formatValue(a)).join(''),
  printf: (format, ...args) => sprintf(String(format), args),
  println: (...args) => args.map(formatValue).join(' ') + '\n',
  eq: (a, ...bs) => bs.some((b) => a === b || (a === MISSING && b === null)),
  ne: (a, b) => a !== b,
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  not: (v) => !truthy(v),
};

// ---- execution

interface Scope {
  dot: Value;
  vars: Map<string, Value>;
}

function field(base: Value, path: string[]): Value {
  let cur = base;
  for (const name of path) {
    if (cur === MISSING) return MISSING;
    if (cur === null || cur === undefined) throw bad(`nil pointer evaluating .${name}`);
    if (typeof cur !== 'object' || Array.isArray(cur)) throw bad(`can't evaluate field ${name} in ${Array.isArray(cur) ? 'a list' : typeof cur}`);
    const o = cur as Record<string, Value>;
    cur = Object.prototype.hasOwnProperty.call(o, name) ? o[name] : MISSING;
    if (cur === null) cur = SLICE_FIELDS.has(name) ? NIL_SLICE : MAP_FIELDS.has(name) ? NIL_MAP : null;
  }
  return cur;
}

function operand(op: Operand, scope: Scope): Value {
  if (op.t === 'lit') return op.value;
  if (op.t === 'sub') return field(pipeline(op.pipe, scope), op.path);
  if (op.t === 'field') {
    if (op.base === 'dot') return field(scope.dot, op.path);
    if (!scope.vars.has(op.base)) throw bad(`undefined variable "${op.base}"`);
    return field(scope.vars.get(op.base), op.path);
  }
  return call(op.name, [], scope);
}

function call(name: string, args: Value[], scope: Scope, argOps: Operand[] = []): Value {
  // and/or evaluate lazily and return the deciding operand, as Go's do.
  if (name === 'and' || name === 'or') {
    const ops = argOps.length ? argOps.map((o) => () => operand(o, scope)) : args.map((a) => () => a);
    let last: Value = undefined;
    for (const get of ops) {
      last = get();
      if (name === 'and' ? !truthy(last) : truthy(last)) return last;
    }
    return last;
  }
  const f = FUNCS[name];
  if (!f) throw bad(`function "${name}" not defined`);
  return f(...args);
}

function pipeline(p: Pipeline, scope: Scope): Value {
  let result: Value = undefined;
  let first = true;
  for (const cmd of p.cmds) {
    const [head, ...rest] = cmd;
    if (head.t === 'ident') {
      const lazy = (head.name === 'and' || head.name === 'or') && first;
      const args = lazy ? [] : rest.map((o) => operand(o, scope));
      if (!first) args.push(result);
      result = call(head.name, args, scope, lazy ? rest : []);
    } else {
      if (rest.length || !first) throw bad(`can't give argument to non-function ${formatValue(operand(head, scope))}`);
      result = operand(head, scope);
    }
    first = false;
  }
  for (const name of p.decl) scope.vars.set(name, result);
  return result;
}

function run(nodes: Node[], scope: Scope, out: string[]): void {
  for (const n of nodes) {
    if (n.t === 'text') out.push(n.text);
    else if (n.t === 'action') {
      const v = pipeline(n.pipe, scope);
      if (!n.pipe.decl.length) out.push(formatValue(v));
    } else if (n.t === 'if') {
      run(truthy(pipeline(n.pipe, scope)) ? n.body : n.other, scope, out);
    } else if (n.t === 'with') {
      const v = pipeline(n.pipe, scope);
      if (truthy(v)) run(n.body, { dot: v, vars: scope.vars }, out);
      else run(n.other, scope, out);
    } else {
      let v = pipeline({ decl: [], cmds: n.pipe.cmds }, scope);
      if (v === NIL_SLICE || v === NIL_MAP) v = null;
      const entries: Array<[Value, Value]> = Array.isArray(v) ? v.map((e, i) => [i, e])
        : v && typeof v === 'object' ? Object.keys(v).sort().map((key) => [key, (v as Record<string, Value>)[key]]) : [];
      if (v !== null && v !== undefined && v !== MISSING && typeof v !== 'object') throw bad(`range can't iterate over ${formatValue(v)}`);
      if (!entries.length) run(n.other, scope, out);
      for (const [key, e] of entries) {
        const vars = new Map(scope.vars);
        if (n.vars.length === 1) vars.set(n.vars[0], e);
        if (n.vars.length === 2) { vars.set(n.vars[0], key); vars.set(n.vars[1], e); }
        run(n.body, { dot: e, vars }, out);
      }
    }
  }
}

/** A compiled `--format` template: `render(data)` is what docker prints for `data`. */
export function compileTemplate(src: string): (data: Value) => string {
  const nodes = parseTemplate(src);
  return (data) => {
    const out: string[] = [];
    run(nodes, { dot: data, vars: new Map([['$', data]]) }, out);
    return out.join('');
  };
}
