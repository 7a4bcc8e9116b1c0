// WWW-Authenticate challenges (RFC 7235 §4.1; the distribution token spec, docs/spec/auth/token.md):
//   Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"
//   Basic realm="Registry Realm"

export interface Challenge {
  /** Lower-case scheme: "bearer", "basic". */
  scheme: string;
  params: Record<string, string>;
}

/** Every challenge in the header value(s), in order. Unparseable parts are skipped. */
export function parseChallenges(value: string | string[] | undefined): Challenge[] {
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [value];
  const out: Challenge[] = [];
  for (const v of values) {
    let i = 0;
    let current: Challenge | undefined;
    while (i < v.length) {
      // token or auth-param
      while (i < v.length && (v[i] === ' ' || v[i] === ',')) i++;
      const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)/.exec(v.slice(i));
      if (!m) break;
      const name = m[1];
      i += name.length;
      let j = i;
      while (j < v.length && v[j] === ' ') j++;
      if (v[j] === '=' && current) {
        // auth-param: name = token / quoted-string
        j++;
        while (j < v.length && v[j] === ' ') j++;
        let val = '';
        if (v[j] === '"') {
          j++;
          while (j < v.length && v[j] !== '"') {
            if (v[j] === '\\' && j + 1 < v.length) j++;
            val += v[j++];
          }
          j++;
        } else {
          const t = /^[^,\s]*/.exec(v.slice(j))![0];
          val = t;
          j += t.length;
        }
        current.params[name.toLowerCase()] = val;
        i = j;
      } else {
        current = { scheme: name.toLowerCase(), params: {} };
        out.push(current);
      }
    }
  }
  return out;
}
