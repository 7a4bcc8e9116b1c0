// Build cache records, one file per step result under <root>/cache/, written atomically. Only steps
// this engine built are recorded, so a pulled image can never pose as a cached step
// (CVE-2024-24557; moby image/cache getLocalCachedImage). A record keeps what went into its key,
// so a miss can say what changed: the parent, the instruction, an ARG value, or which file.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../store/atomic';

export interface CacheInputs {
  /** Parent image ID ('' for an empty root). */
  parent: string;
  /** os/architecture of the result (the cache is per platform). */
  platform: string;
  /** The instruction after variable expansion, with its flags. */
  instruction: string;
  /** Build args the step uses, name -> value. */
  args: Record<string, string>;
  /** srcHash of the files a COPY/ADD selected. */
  filesHash?: string;
  /** Per-file hashes behind filesHash. */
  files?: Record<string, string>;
}

export interface CacheRecord extends CacheInputs {
  key: string;
  /** The step's result image. */
  image: string;
  created: string;
}

export function cacheKey(i: CacheInputs): string {
  const args = Object.keys(i.args).sort().map((k) => `${k}=${i.args[k]}`);
  return createHash('sha256').update(JSON.stringify([i.parent, i.platform, i.instruction, args, i.filesHash ?? ''])).digest('hex');
}

export class BuildCache {
  private readonly dir: string;
  private byKey = new Map<string, CacheRecord>();
  private loaded = false;

  constructor(root: string) {
    this.dir = path.join(root, 'cache');
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const f of await fs.readdir(this.dir)) {
      if (!f.endsWith('.json')) continue;
      try {
        const r = JSON.parse(await fs.readFile(path.join(this.dir, f), 'utf8')) as CacheRecord;
        this.byKey.set(r.key, r);
      } catch {
        // A torn or foreign file is not a cache entry.
      }
    }
    this.loaded = true;
  }

  async get(key: string): Promise<CacheRecord | undefined> {
    await this.load();
    return this.byKey.get(key);
  }

  async put(r: CacheRecord): Promise<void> {
    await this.load();
    await writeFileAtomic(path.join(this.dir, `${r.key}.json`), JSON.stringify(r), 0o600);
    this.byKey.set(r.key, r);
  }

  async forget(key: string): Promise<void> {
    await fs.rm(path.join(this.dir, `${key}.json`), { force: true });
    this.byKey.delete(key);
  }

  /** Image IDs the cache holds (hidden from `images` unless named). */
  async images(): Promise<Set<string>> {
    await this.load();
    return this.imagesSync();
  }

  /**
   * Every step result and every parent of one. The parents matter: a rebuilt step (--no-cache, or
   * the same key built again) replaces its record, and the image it replaced stays the parent of the
   * older steps built on it; it is still an intermediate image (Docker hides an untagged image that
   * has children, moby daemon/images/images.go), not a dangling one.
   */
  imagesSync(): Set<string> {
    const ids = new Set<string>();
    for (const r of this.byKey.values()) {
      ids.add(r.image);
      if (r.parent) ids.add(r.parent);
    }
    return ids;
  }

  /** Why `now` has no record: compared with the closest earlier record of the same parent. */
  async explainMiss(now: CacheInputs): Promise<string> {
    await this.load();
    const all = [...this.byKey.values()].filter((r) => r.platform === now.platform);
    const sameParent = all.filter((r) => r.parent === now.parent);
    if (!sameParent.length) return 'not built before on this parent image';
    const sameInstr = sameParent.filter((r) => r.instruction === now.instruction).sort((a, b) => b.created.localeCompare(a.created));
    if (!sameInstr.length) {
      const kw = now.instruction.split(/\s/)[0];
      return `instruction is new or changed (no earlier ${kw} with this text on this parent)`;
    }
    const prev = sameInstr[0];
    for (const k of new Set([...Object.keys(prev.args), ...Object.keys(now.args)])) {
      if (prev.args[k] !== now.args[k]) return `build arg ${k} changed (${prev.args[k] ?? '<unset>'} -> ${now.args[k] ?? '<unset>'})`;
    }
    if (prev.files && now.files) {
      const changed: string[] = [];
      for (const f of new Set([...Object.keys(prev.files), ...Object.keys(now.files)])) {
        if (prev.files[f] === now.files[f]) continue;
        changed.push(`${f}${prev.files[f] === undefined ? ' (added)' : now.files[f] === undefined ? ' (removed)' : ''}`);
      }
      if (changed.length) return `file changed: ${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ` and ${changed.length - 3} more` : ''}`;
    }
    if (prev.filesHash !== now.filesHash) return 'source content changed';
    return 'cache entry was removed';
  }
}
