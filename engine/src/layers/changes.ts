// What a container changed, read from its overlayfs upper directory alone: the cost grows with the
// changes, not with the image (moby pkg/archive/changes.go OverlayChanges, with the lowers checked
// top first and their whiteouts and opaque directories honoured).
import fs from 'node:fs';
import { OVERLAY_OPAQUE_XATTR, isOverlayWhiteout, type SpecialFiles } from './special';

/** One line of `docker diff`: A added, C changed, D deleted; path absolute-style, e.g. '/etc/hosts'. */
export interface Change {
  kind: 'A' | 'C' | 'D';
  path: string;
}

/**
 * Orders paths as a walk of the tree does (a directory, then its contents, names byte-wise), which is
 * the order `docker diff` prints: '/a', '/a/b', '/a.txt'.
 */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a.replace(/\//g, '\0')), Buffer.from(b.replace(/\//g, '\0')));
}

function isOpaque(special: SpecialFiles, dir: string): boolean {
  const v = special.lgetxattr(dir, OVERLAY_OPAQUE_XATTR);
  return v !== undefined && v.length === 1 && v[0] === 0x79; // 'y'
}

/** The lower layers seen as one merged tree, for lookups by path. */
class LowerView {
  /** Per layer: what an ancestor directory is there ('dir', 'opaque', 'hides' the rest, or 'absent'). */
  private readonly ancestors: Map<string, 'dir' | 'opaque' | 'hides' | 'absent'>[];

  constructor(private readonly lowers: string[], private readonly special: SpecialFiles) {
    this.ancestors = lowers.map(() => new Map());
  }

  private ancestorState(layer: number, dir: string): 'dir' | 'opaque' | 'hides' | 'absent' {
    const cache = this.ancestors[layer];
    let state = cache.get(dir);
    if (state === undefined) {
      const full = this.lowers[layer] + '/' + dir;
      const st = fs.lstatSync(full, { throwIfNoEntry: false });
      state = !st ? 'absent' : !st.isDirectory() ? 'hides' : isOpaque(this.special, full) ? 'opaque' : 'dir';
      cache.set(dir, state);
    }
    return state;
  }

  /**
   * Where `rel` ('a/b') is in the merged lowers, top first: its stats and layer, or undefined when no
   * lower has it or a whiteout, a non-directory parent or an opaque directory above hides it.
   */
  lookup(rel: string): { st: fs.Stats; layer: number } | undefined {
    const parts = rel.split('/');
    for (let layer = 0; layer < this.lowers.length; layer++) {
      let opaqueAbove = false;
      let reachable = true;
      let dir = '';
      for (let i = 0; i < parts.length - 1; i++) {
        dir = dir === '' ? parts[i] : dir + '/' + parts[i];
        const state = this.ancestorState(layer, dir);
        if (state === 'hides') return undefined;
        if (state === 'absent') { reachable = false; break; }
        if (state === 'opaque') opaqueAbove = true;
      }
      if (reachable) {
        const st = fs.lstatSync(this.lowers[layer] + '/' + rel, { throwIfNoEntry: false });
        if (st) return isOverlayWhiteout(st) ? undefined : { st, layer };
      }
      if (opaqueAbove) return undefined;
    }
    return undefined;
  }

  /** The names the merged lowers hold in directory `rel` (which lookup found as a directory). */
  children(rel: string): string[] {
    const seen = new Map<string, boolean>(); // name -> exists (false: whited out above)
    const found = this.lookup(rel);
    if (!found || !found.st.isDirectory()) return [];
    for (let layer = found.layer; layer < this.lowers.length; layer++) {
      const full = this.lowers[layer] + '/' + rel;
      if (layer > found.layer) {
        // Deeper layers count only while the path stays a plain directory all the way down.
        if (this.lookupIn(layer, rel) !== 'dir') break;
      }
      for (const d of fs.readdirSync(full, { withFileTypes: true })) {
        if (seen.has(d.name)) continue;
        let exists = true;
        if (d.isCharacterDevice()) exists = !isOverlayWhiteout(fs.lstatSync(full + '/' + d.name));
        seen.set(d.name, exists);
      }
      if (isOpaque(this.special, full)) break;
    }
    return [...seen].filter(([, exists]) => exists).map(([name]) => name);
  }

  private lookupIn(layer: number, rel: string): 'dir' | 'other' {
    const parts = rel.split('/');
    let dir = '';
    for (let i = 0; i < parts.length - 1; i++) {
      dir = dir === '' ? parts[i] : dir + '/' + parts[i];
      if (this.ancestorState(layer, dir) !== 'dir') return 'other';
    }
    const st = fs.lstatSync(this.lowers[layer] + '/' + rel, { throwIfNoEntry: false });
    return st?.isDirectory() ? 'dir' : 'other';
  }
}

/**
 * The changes of an overlayfs upper directory over its lower directories (top layer first), sorted
 * as `docker diff` prints them. Whiteout devices are D; an opaque directory is C plus a D for each
 * lower entry it hides; anything else is C when the lowers have it, else A. A directory that is only
 * there because overlayfs copied it up (same mode, owner and mtime as below) is not listed unless an
 * entry directly inside it was added or deleted (moby pkg/archive/changes.go, docker#13590).
 */
export async function overlayChanges(upper: string, lowers: string[], special: SpecialFiles): Promise<Change[]> {
  const lower = new LowerView(lowers, special);
  const byPath = new Map<string, Change['kind']>();
  const add = (rel: string, kind: Change['kind']) => {
    byPath.set(rel, kind);
    if (kind === 'C') return;
    // A parent of an added or deleted entry is itself changed (unless it is new, or the root).
    const i = rel.lastIndexOf('/');
    if (i > 0) {
      const parent = rel.slice(0, i);
      if (!byPath.has(parent)) byPath.set(parent, 'C');
    }
  };

  const walk = (dir: string) => {
    const full = dir === '' ? upper : upper + '/' + dir;
    for (const name of fs.readdirSync(full)) {
      const rel = dir === '' ? name : dir + '/' + name;
      const path = full + '/' + name;
      const st = fs.lstatSync(path);
      if (isOverlayWhiteout(st)) {
        add(rel, 'D');
        continue;
      }
      const below = lower.lookup(rel);
      if (!st.isDirectory()) {
        add(rel, below ? 'C' : 'A');
        continue;
      }
      if (!below) {
        add(rel, 'A');
      } else if (isOpaque(special, path)) {
        add(rel, 'C');
        const mine = new Set(fs.readdirSync(path));
        for (const child of lower.children(rel)) if (!mine.has(child)) add(rel + '/' + child, 'D');
      } else {
        const b = below.st;
        const copiedUp = b.isDirectory() && b.mode === st.mode && b.uid === st.uid && b.gid === st.gid && b.mtimeMs === st.mtimeMs;
        if (!copiedUp) add(rel, 'C');
      }
      walk(rel);
    }
  };
  walk('');

  return [...byPath]
    .map(([rel, kind]) => ({ kind, path: '/' + rel }))
    .sort((a, b) => comparePaths(a.path, b.path));
}

/**
 * Where `rel` ('etc/hosts') is in overlayfs layer dirs merged top first (an upper dir counts as the
 * top layer): the layer dir holding it and its lstat, or undefined when no layer has it or a whiteout,
 * an opaque directory or a non-directory ancestor (a symlink too: never followed) hides it.
 */
export function lookupInLayers(dirs: string[], special: SpecialFiles, rel: string): { dir: string; st: fs.Stats } | undefined {
  const found = new LowerView(dirs, special).lookup(rel);
  return found && { dir: dirs[found.layer], st: found.st };
}
