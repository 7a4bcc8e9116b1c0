// The build context: a directory on this machine, read in place. Nothing is copied wholesale: a COPY
// or ADD selects paths, and only those files are read, hashed and written into the step's layer.
//
// Paths never leave the context: a source is resolved one component at a time, `..` stops at the
// root and a symlink is followed inside the root (moby pkg/symlink FollowSymlinkInScope), so neither
// `COPY ../x` nor a link to /etc reaches outside. .dockerignore follows Docker exactly
// (@balena/dockerignore); the Dockerfile and .dockerignore themselves are always readable.
import { createHash } from 'node:crypto';
import { promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import ignore from '@balena/dockerignore';
import { notFound } from '../errors';

/** One file, directory or symlink of the context selected by a COPY/ADD source. */
export interface ContextEntry {
  /** Path in the context, '/'-separated, no leading slash. */
  rel: string;
  /** Absolute host path (resolved inside the context). */
  abs: string;
  /** Path under the destination ('' for the source directory itself). */
  target: string;
  stat: Stats;
  /** For symlinks: the link text. */
  linkname?: string;
}

export interface Selection {
  /** One per source: whether it was a directory whose contents are copied. */
  sources: Array<{ pattern: string; rel: string; isDir: boolean; entries: ContextEntry[] }>;
  /** srcHash over every selected entry (mode, ownership, size, type, link and content; not mtime). */
  hash: string;
  /** Per-file hashes, for explaining a cache miss. */
  files: Record<string, string>;
}

const MAX_LINKS = 40;

/** Go's filepath.Match for one path segment: * ? [class] and backslash escapes. */
export function segmentMatcher(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '!' + cls.slice(1);
      re += cls.startsWith('!') ? `[^${cls.slice(1).replace(/\\/g, '\\\\')}]` : `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export const hasWildcards = (p: string) => /[*?[]/.test(p);

export class BuildContext {
  private readonly ig: ReturnType<typeof ignore>;
  private readonly hashes = new Map<string, string>();

  private constructor(
    readonly root: string,
    ignoreLines: string[],
    private readonly alwaysIncluded: Set<string>,
  ) {
    this.ig = ignore().add(ignoreLines);
  }

  /** Opens the context at `root`; `dockerfileRel` is always sent even if ignored (Docker's rule). */
  static async open(root: string, dockerfileRel?: string): Promise<BuildContext> {
    const real = await fs.realpath(root).catch(() => {
      throw notFound(`unable to prepare context: path "${root}" not found`, 'give the build context directory as the last argument');
    });
    if (!(await fs.stat(real)).isDirectory()) throw notFound(`unable to prepare context: "${root}" is not a directory`);
    const text = await fs.readFile(path.join(real, '.dockerignore'), 'utf8').catch(() => '');
    const lines = text.split(/\r?\n/).filter((l) => !l.startsWith('#')).map((l) => l.trim()).filter(Boolean);
    return new BuildContext(real, lines, new Set(['.dockerignore', ...(dockerfileRel ? [dockerfileRel] : [])]));
  }

  ignored(rel: string): boolean {
    if (rel === '' || this.alwaysIncluded.has(rel)) return false;
    return this.ig.ignores(rel);
  }

  /**
   * Resolves `rel` inside the context, following symlinks within it. Returns the clean context path
   * or undefined when nothing is there.
   */
  async resolve(rel: string, followLast = true): Promise<string | undefined> {
    let parts = rel.split('/').filter((p) => p && p !== '.');
    const done: string[] = [];
    let links = 0;
    while (parts.length) {
      const part = parts.shift()!;
      if (part === '..') {
        done.pop();
        continue;
      }
      const cur = [...done, part].join('/');
      let st: Stats;
      try {
        st = await fs.lstat(path.join(this.root, cur));
      } catch {
        return undefined;
      }
      if (st.isSymbolicLink() && (parts.length || followLast)) {
        if (++links > MAX_LINKS) return undefined;
        const target = await fs.readlink(path.join(this.root, cur));
        const tparts = target.split('/').filter((p) => p && p !== '.');
        if (target.startsWith('/')) done.length = 0;
        parts = [...tparts, ...parts];
        continue;
      }
      done.push(part);
    }
    return done.join('/');
  }

  /** Every context path matching a wildcard source, one segment at a time. */
  private async glob(pattern: string): Promise<string[]> {
    const segs = pattern.split('/').filter((p) => p && p !== '.');
    let found = [''];
    for (const seg of segs) {
      const next: string[] = [];
      for (const dir of found) {
        if (!hasWildcards(seg)) {
          const r = await this.resolve(dir ? `${dir}/${seg}` : seg, false);
          if (r !== undefined) next.push(r);
          continue;
        }
        const resolved = await this.resolve(dir);
        if (resolved === undefined) continue;
        const names = await fs.readdir(path.join(this.root, resolved)).catch(() => [] as string[]);
        const re = segmentMatcher(seg);
        for (const n of names.sort()) if (re.test(n)) next.push(resolved ? `${resolved}/${n}` : n);
      }
      found = next;
    }
    return found.filter((f) => !this.ignored(f));
  }

  /** The entries of COPY/ADD sources; a source that matches nothing is an error naming it. */
  async select(patterns: string[]): Promise<Selection> {
    const sources: Selection['sources'] = [];
    for (const pattern of patterns) {
      const clean = pattern.replace(/^\/+/, '');
      const matches = hasWildcards(clean) ? await this.glob(clean) : [await this.resolve(clean)].filter((r): r is string => r !== undefined && !this.ignored(r));
      if (!matches.length) {
        throw notFound(`COPY failed: file not found in build context or excluded by .dockerignore: stat ${pattern}: file does not exist`, 'check the path is inside the build context and not ignored');
      }
      for (const m of matches) {
        const rel = (await this.resolve(m)) ?? m;
        const abs = path.join(this.root, rel);
        const stat = await fs.stat(abs);
        if (stat.isDirectory()) {
          const entries: ContextEntry[] = [];
          await this.walk(rel, '', entries);
          sources.push({ pattern, rel, isDir: true, entries });
        } else {
          sources.push({ pattern, rel, isDir: false, entries: [{ rel, abs, target: path.posix.basename(rel), stat }] });
        }
      }
    }
    const files: Record<string, string> = {};
    const all = createHash('sha256');
    for (const s of sources) {
      all.update(`${s.isDir ? 'dir' : 'file'}:${s.rel}\0`);
      for (const e of s.entries) {
        const h = await this.hashEntry(e);
        files[e.rel] = h;
        all.update(`${e.target}\0${h}\0`);
      }
    }
    return { sources, hash: `sha256:${all.digest('hex')}`, files };
  }

  private async walk(dirRel: string, targetPrefix: string, out: ContextEntry[]): Promise<void> {
    const names = (await fs.readdir(path.join(this.root, dirRel))).sort();
    for (const name of names) {
      const rel = dirRel ? `${dirRel}/${name}` : name;
      const target = targetPrefix ? `${targetPrefix}/${name}` : name;
      const abs = path.join(this.root, rel);
      const stat = await fs.lstat(abs);
      if (this.ignored(rel)) {
        // An ignored directory may still hold exceptions (`!dir/keep`): Docker walks into it then.
        if (stat.isDirectory()) {
          const before = out.length;
          await this.walk(rel, target, out);
          if (out.length > before) out.splice(before, 0, { rel, abs, target, stat });
        }
        continue;
      }
      if (stat.isSymbolicLink()) out.push({ rel, abs, target, stat, linkname: await fs.readlink(abs) });
      else if (stat.isDirectory()) {
        out.push({ rel, abs, target, stat });
        await this.walk(rel, target, out);
      } else if (stat.isFile()) out.push({ rel, abs, target, stat });
      // Sockets, fifos and devices in a context are skipped, as Docker's tar of the context skips sockets.
    }
  }

  /** tarsum-like: type, mode, uid, gid, size, link and content hash; never mtime (moby remotecontext/filehash.go). */
  private async hashEntry(e: ContextEntry): Promise<string> {
    const memo = this.hashes.get(e.rel);
    if (memo) return memo;
    const s = e.stat;
    const type = s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'symlink' : 'file';
    const h = createHash('sha256').update(`${type}\0${(s.mode & 0o7777).toString(8)}\0${s.uid}\0${s.gid}\0${type === 'file' ? s.size : 0}\0${e.linkname ?? ''}\0`);
    if (type === 'file') h.update(await fs.readFile(e.abs));
    const d = h.digest('hex');
    this.hashes.set(e.rel, d);
    return d;
  }
}
