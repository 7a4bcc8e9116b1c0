// Image records and the names that point at them.
//
//   root/images/<config hex>.json   one ImageRecord per image; the ID is the config digest (Docker's)
//   root/refs.json                  { version: 1, refs: { "docker.io/library/busybox:latest": "sha256:<id>" } }
//   root/refs.json.lock             held while refs.json is read-modify-written by any process
//
// Records are written atomically; blobs they name live in the ContentStore; unpacked layers belong to
// the Snapshotter. Resolution follows Docker's daemon (daemon/images/image.go GetImage): a full ID,
// then a name (":latest" when untagged), then a unique ID prefix.
import * as path from 'node:path';
import { invalidArgument, notFound } from '../errors';
import type { ContentStore } from '../store/content';
import { writeFileAtomic } from '../store/atomic';
import { withLock } from '../store/lock';
import { RecordStore } from '../store/records';
import { promises as fs } from 'node:fs';
import { isSha256Digest, parseDigest, sha256Hex } from './digest';
import { formatReference, normalizeReference, parseReference, repositoryName, type Reference } from './reference';
import type { Descriptor } from './types';

export interface LayerRecord {
  /** sha256 of the uncompressed layer tar (config rootfs.diff_ids[i]). */
  diffID: string;
  /** This layer with all below it; the Snapshotter's key for the unpacked layer. */
  chainID: string;
  /** The layer blob in the ContentStore, exactly as the manifest lists it (compressed or not). */
  blob: Descriptor;
  /** Unpacked size in bytes, as the Snapshotter reported it. */
  size?: number;
}

export interface ImageRecord {
  /** The config digest: Docker's image ID. */
  id: string;
  /** The manifest blob in the ContentStore. */
  manifest: Descriptor;
  /** The config blob in the ContentStore (digest === id). */
  config: Descriptor;
  layers: LayerRecord[];
  created?: string;
  os: string;
  architecture: string;
  variant?: string;
  osVersion?: string;
  /** When a name was last pointed at this image (Docker's Metadata.LastTagTime). */
  lastTagTime?: string;
}

interface RefsFile {
  version: 1;
  refs: Record<string, string>;
}

export class ImageStore {
  private readonly records: RecordStore<ImageRecord>;
  private readonly refsPath: string;

  constructor(
    readonly root: string,
    readonly content: ContentStore,
  ) {
    this.records = new RecordStore<ImageRecord>(path.join(root, 'images'));
    this.refsPath = path.join(root, 'refs.json');
  }

  async get(id: string): Promise<ImageRecord | undefined> {
    return this.records.get(sha256Hex(id));
  }

  async put(record: ImageRecord): Promise<void> {
    if (!isSha256Digest(record.id)) throw invalidArgument(`invalid image ID "${record.id}"`);
    await this.records.put(sha256Hex(record.id), record);
  }

  async list(): Promise<ImageRecord[]> {
    return (await this.records.entries()).map(([, r]) => r);
  }

  /** Removes the record and every name that points at it. Blobs and layers are the caller's. */
  async delete(id: string): Promise<void> {
    await this.updateRefs((refs) => {
      for (const [k, v] of Object.entries(refs)) if (v === id) delete refs[k];
    });
    await this.records.delete(sha256Hex(id));
  }

  private async readRefs(): Promise<Record<string, string>> {
    let text: string;
    try {
      text = await fs.readFile(this.refsPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
    const parsed = JSON.parse(text) as RefsFile;
    return parsed.refs ?? {};
  }

  private async updateRefs<T>(fn: (refs: Record<string, string>) => T): Promise<T> {
    await fs.mkdir(this.root, { recursive: true });
    return withLock(
      `${this.refsPath}.lock`,
      async () => {
        const refs = await this.readRefs();
        const result = fn(refs);
        const sorted = Object.fromEntries(Object.entries(refs).sort(([a], [b]) => a.localeCompare(b)));
        await writeFileAtomic(this.refsPath, JSON.stringify({ version: 1, refs: sorted } satisfies RefsFile, null, 2) + '\n', 0o600);
        return result;
      },
      { what: 'the image name table' },
    );
  }

  /** Every name -> image ID, names fully normalised. */
  async refs(): Promise<Record<string, string>> {
    return this.readRefs();
  }

  /** The names pointing at an image, fully normalised, sorted. */
  async refsOf(id: string): Promise<Reference[]> {
    const refs = await this.readRefs();
    return Object.keys(refs)
      .filter((k) => refs[k] === id)
      .sort()
      .map((k) => parseReference(k));
  }

  /**
   * Points `ref` (normalised, ":latest" when untagged) at image `id`. Returns the image the name was
   * taken from, if any (it may now be dangling).
   */
  async tag(ref: string, id: string): Promise<{ previous?: string }> {
    const key = formatReference(normalizeReference(ref));
    const record = await this.get(id);
    if (!record) throw notFound(`No such image: ${id}`);
    const previous = await this.updateRefs((refs) => {
      const prev = refs[key];
      refs[key] = id;
      return prev !== id ? prev : undefined;
    });
    await this.put({ ...record, lastTagTime: new Date().toISOString() });
    return { previous };
  }

  /** Removes one name; returns the image it pointed at. NotFound when the name is not in use. */
  async untag(ref: string): Promise<string> {
    const key = formatReference(normalizeReference(ref));
    const id = await this.updateRefs((refs) => {
      const v = refs[key];
      delete refs[key];
      return v;
    });
    if (!id) throw notFound(`No such image: ${ref}`);
    return id;
  }

  /** resolve() without the NotFound: undefined when nothing matches. */
  async lookup(refOrId: string): Promise<ImageRecord | undefined> {
    if (refOrId === '') throw invalidArgument('an image name or ID must not be empty');
    if (/^sha256:/.test(refOrId) || /^[a-f0-9]{64}$/.test(refOrId)) {
      const id = refOrId.startsWith('sha256:') ? refOrId : `sha256:${refOrId}`;
      if (isSha256Digest(id)) return this.get(id);
      if (/^sha256:[a-f0-9]+$/.test(refOrId)) return this.byPrefix(refOrId.slice(7), refOrId);
      parseDigest(id);
    }
    const r = normalizeReference(refOrId);
    const refs = await this.readRefs();
    const id = refs[formatReference(r)];
    if (id) return this.get(id);
    if (r.digest) {
      // A name@digest with no recorded name: match the manifest digest of an image of that repository.
      const repo = repositoryName(r);
      for (const [k, v] of Object.entries(refs)) {
        if (repositoryName(parseReference(k)) !== repo) continue;
        const rec = await this.get(v);
        if (rec?.manifest.digest === r.digest) return rec;
      }
      return undefined;
    }
    if (/^[a-f0-9]{1,64}$/.test(refOrId)) return this.byPrefix(refOrId, refOrId);
    return undefined;
  }

  private async byPrefix(prefix: string, asGiven: string): Promise<ImageRecord | undefined> {
    const keys = (await this.records.list()).filter((k) => k.startsWith(prefix));
    if (keys.length > 1) throw invalidArgument(`image ID prefix "${asGiven}" is ambiguous: ${keys.length} images match`, 'give more digits of the ID');
    return keys.length === 1 ? this.records.get(keys[0]) : undefined;
  }

  /** An image by name, by full or short ID, or by name@digest; NotFound when nothing matches. */
  async resolve(refOrId: string): Promise<ImageRecord> {
    const rec = await this.lookup(refOrId);
    if (!rec) throw notFound(`No such image: ${refOrId}`, 'see `silo images` for the images present');
    return rec;
  }
}
