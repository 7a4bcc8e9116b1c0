// Content-addressed blobs (containerd plugins/content/local, reduced to what Silo needs):
//
//   root/blobs/sha256/<hex>     immutable, read-only, named by the sha256 of their bytes
//   root/ingest/<h>/data        an in-flight write, h = sha256(ref); never read as a blob
//   root/ingest/<h>/ref         the ref the writer was opened with
//   root/ingest/<h>.lock        held (flock) by the one writer of that ref, in any process
//
// A writer hashes as it writes; commit fsyncs, checks size and digest, then renames the data into
// blobs/ and fsyncs the directory. Nothing reaches blobs/ unverified, and a blob that already exists
// makes a commit succeed (the content is the same by definition). A mismatch deletes the ingest.
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { invalidArgument, notFound, notImplemented, unavailable } from '../errors';
import { fsyncDir, removeStaleTemps, writeFileAtomic } from './atomic';
import { lockHolder, tryLock, type HeldLock } from './lock';

export interface BlobInfo {
  digest: string;
  size: number;
}

export interface ExpectedContent {
  digest?: string;
  size?: number;
}

/** An open, resumable write of one blob; one per ref at a time across all processes. */
export interface ContentWriter {
  readonly ref: string;
  /** Bytes written so far, including those from an earlier, interrupted writer of the same ref. */
  readonly offset: number;
  write(chunk: Uint8Array): Promise<void>;
  /** The sha256 digest of the bytes written so far. */
  digest(): string;
  /** Drops what was written, to start over from offset 0 (a server that cannot resume). */
  truncate(): Promise<void>;
  /** The bytes written so far, refused beyond maxBytes; for metadata that must be read before commit. */
  contents(maxBytes: number): Promise<Buffer>;
  /** Verifies and publishes the blob; on a mismatch deletes the ingest and throws InvalidArgument. */
  commit(expected?: ExpectedContent): Promise<BlobInfo>;
  /** Deletes the ingest and releases the ref. */
  abort(): Promise<void>;
  /** Releases the ref but keeps the data, so a later openWriter(ref) resumes at offset. */
  close(): Promise<void>;
}

const SHA256 = /^sha256:([a-f0-9]{64})$/;

function hexOf(digest: string): string {
  const m = SHA256.exec(digest);
  if (m) return m[1];
  if (digest.startsWith('sha256:')) throw invalidArgument(`invalid digest "${digest}": a sha256 digest is 64 lowercase hex digits`);
  if (/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) {
    throw notImplemented(`digest algorithm of ${digest} is not supported`, 'only sha256 content is stored');
  }
  throw invalidArgument(`invalid digest "${digest}"`);
}

export class ContentStore {
  readonly blobsDir: string;
  readonly ingestDir: string;

  constructor(readonly root: string) {
    this.blobsDir = path.join(root, 'blobs', 'sha256');
    this.ingestDir = path.join(root, 'ingest');
  }

  /** Where the blob lives (it may not exist). */
  path(digest: string): string {
    return path.join(this.blobsDir, hexOf(digest));
  }

  async has(digest: string): Promise<boolean> {
    try {
      return (await fs.stat(this.path(digest))).isFile();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async info(digest: string): Promise<BlobInfo> {
    try {
      const st = await fs.stat(this.path(digest));
      return { digest, size: st.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`blob ${digest} not found`);
      throw err;
    }
  }

  /** The whole blob, refused when it is larger than maxBytes (a manifest or config, never a layer). */
  async read(digest: string, maxBytes = 4 * 1024 * 1024): Promise<Buffer> {
    const { size } = await this.info(digest);
    if (size > maxBytes) throw invalidArgument(`blob ${digest} is ${size} bytes, more than the ${maxBytes} allowed here`);
    return fs.readFile(this.path(digest));
  }

  createReadStream(digest: string): Readable {
    return createReadStream(this.path(digest));
  }

  /** Removes the blob; false when there was none. */
  async delete(digest: string): Promise<boolean> {
    try {
      await fs.unlink(this.path(digest));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async list(): Promise<BlobInfo[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.blobsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: BlobInfo[] = [];
    for (const name of names.sort()) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const st = await fs.stat(path.join(this.blobsDir, name)).catch(() => undefined);
      if (st?.isFile()) out.push({ digest: `sha256:${name}`, size: st.size });
    }
    return out;
  }

  /**
   * Writes a whole blob from a stream or buffer. An existing blob with the expected digest is success
   * (the source is drained, not stored again). A mismatch leaves nothing and throws InvalidArgument.
   */
  async ingest(source: Readable | Uint8Array, expected: ExpectedContent = {}): Promise<BlobInfo> {
    if (expected.digest && (await this.has(expected.digest))) {
      const info = await this.info(expected.digest);
      if (expected.size !== undefined && expected.size !== info.size) {
        throw invalidArgument(`size of ${expected.digest} is ${info.size}, not the expected ${expected.size}`);
      }
      if (!(source instanceof Uint8Array)) {
        for await (const _ of source) void _;
      }
      return info;
    }
    const w = await this.openWriter(`ingest-${process.pid}-${randomUUID()}`);
    try {
      if (source instanceof Uint8Array) {
        await w.write(source);
      } else {
        for await (const chunk of source) await w.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      }
    } catch (err) {
      await w.abort();
      throw err;
    }
    return w.commit(expected);
  }

  /**
   * Writes a small blob held in memory (a config, a manifest). Its digest is known before anything is
   * written, so it needs no ingest, ref lock or resume: one atomic write (temp file, fsync, rename,
   * directory fsync) straight into blobs/. An existing blob is success; a mismatch writes nothing.
   */
  async putBytes(bytes: Uint8Array, expected: ExpectedContent = {}): Promise<BlobInfo> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (expected.digest !== undefined) hexOf(expected.digest); // refuses a malformed or non-sha256 digest
    if (expected.digest !== undefined && expected.digest !== digest) throw invalidArgument(`content has digest ${digest}, expected ${expected.digest}`);
    if (expected.size !== undefined && expected.size !== bytes.length) throw invalidArgument(`content is ${bytes.length} bytes, expected ${expected.size}`);
    if (!(await this.has(digest))) {
      await fs.mkdir(this.blobsDir, { recursive: true });
      await writeFileAtomic(this.path(digest), bytes, 0o444);
    }
    return { digest, size: bytes.length };
  }

  private ingestPaths(ref: string) {
    const h = createHash('sha256').update(ref).digest('hex');
    const dir = path.join(this.ingestDir, h);
    return { dir, data: path.join(dir, 'data'), refFile: path.join(dir, 'ref'), lock: path.join(this.ingestDir, `${h}.lock`) };
  }

  /**
   * Opens the one writer of `ref`, resuming what an earlier writer of the same ref left. A ref held by
   * another writer (this process or another) is Unavailable: retry later (containerd locks.go).
   */
  async openWriter(ref: string): Promise<ContentWriter> {
    if (!ref) throw invalidArgument('an ingest ref must not be empty');
    const p = this.ingestPaths(ref);
    await fs.mkdir(this.ingestDir, { recursive: true });
    const held = await tryLock(p.lock);
    if (!held) {
      const pid = await lockHolder(p.lock);
      throw unavailable(`ref ${ref} is locked${pid ? ` by process ${pid}` : ''}`, 'another write of the same content is in progress; retry when it ends');
    }
    try {
      await fs.mkdir(p.dir, { recursive: true });
      await fs.writeFile(p.refFile, ref);
      const h = await fs.open(p.data, 'a+', 0o644);
      const hash = createHash('sha256');
      let offset = 0;
      // Resume: the hash state cannot be saved, so the bytes already there are hashed again.
      for await (const chunk of createReadStream(p.data)) {
        hash.update(chunk as Buffer);
        offset += (chunk as Buffer).length;
      }
      return new Writer(this, ref, p, held, h, hash, offset);
    } catch (err) {
      await held.release();
      throw err;
    }
  }

  /** Refs of ingests not held by a live writer (left by a crash or an interrupted download). */
  async staleIngests(): Promise<Array<{ ref: string; size: number; modified: Date }>> {
    let names: string[];
    try {
      names = await fs.readdir(this.ingestDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: Array<{ ref: string; size: number; modified: Date }> = [];
    for (const name of names) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const dir = path.join(this.ingestDir, name);
      const ref = await fs.readFile(path.join(dir, 'ref'), 'utf8').catch(() => undefined);
      const st = await fs.stat(path.join(dir, 'data')).catch(() => undefined);
      const held = await tryLock(path.join(this.ingestDir, `${name}.lock`));
      if (!held) continue;
      await held.release();
      out.push({ ref: ref ?? name, size: st?.size ?? 0, modified: st?.mtime ?? new Date(0) });
    }
    return out;
  }

  /**
   * Deletes ingests no live writer holds and that were last written before `olderThan`
   * (default: now). Returns the bytes freed.
   */
  async removeStaleIngests(olderThan: Date = new Date()): Promise<{ count: number; bytes: number }> {
    // putBytes' temp files in blobs/ whose writer died mid-write: never blobs (hidden names), just litter.
    await removeStaleTemps(this.blobsDir);
    let names: string[];
    try {
      names = await fs.readdir(this.ingestDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { count: 0, bytes: 0 };
      throw err;
    }
    let count = 0;
    let bytes = 0;
    for (const name of names) {
      const lockName = /^([a-f0-9]{64})\.lock$/.exec(name);
      const h = lockName ? lockName[1] : /^[a-f0-9]{64}$/.test(name) ? name : undefined;
      if (!h) continue;
      const dir = path.join(this.ingestDir, h);
      const held = await tryLock(path.join(this.ingestDir, `${h}.lock`));
      if (!held) continue;
      try {
        const st = await fs.stat(path.join(dir, 'data')).catch(() => undefined);
        const dirExists = await fs.stat(dir).then(() => true, () => false);
        if (st && st.mtime > olderThan) continue;
        if (dirExists) {
          await fs.rm(dir, { recursive: true, force: true });
          count++;
          bytes += st?.size ?? 0;
        }
        await held.release({ remove: true });
      } finally {
        await held.release();
      }
    }
    return { count, bytes };
  }
}

/** Renames verified data into blobs/ under its digest (module-private: only a Writer's commit calls it). */
async function publish(blobsDir: string, dataPath: string, hex: string): Promise<void> {
  await fs.mkdir(blobsDir, { recursive: true });
  const target = path.join(blobsDir, hex);
  const exists = await fs.stat(target).then(() => true, () => false);
  if (exists) return; // "already exists" is success: same digest, same bytes
  if (process.platform !== 'win32') await fs.chmod(dataPath, 0o444);
  await fs.rename(dataPath, target);
  await fsyncDir(blobsDir);
}

class Writer implements ContentWriter {
  private done = false;

  constructor(
    private readonly store: ContentStore,
    readonly ref: string,
    private readonly p: { dir: string; data: string; lock: string },
    private readonly held: HeldLock,
    private readonly h: fs.FileHandle,
    private hash: Hash,
    public offset: number,
  ) {}

  private check(): void {
    if (this.done) throw invalidArgument(`writer for ${this.ref} is already closed`);
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.check();
    let written = 0;
    while (written < chunk.length) {
      const { bytesWritten } = await this.h.write(chunk, written, chunk.length - written);
      written += bytesWritten;
    }
    this.hash.update(chunk);
    this.offset += chunk.length;
  }

  digest(): string {
    return `sha256:${this.hash.copy().digest('hex')}`;
  }

  async truncate(): Promise<void> {
    this.check();
    await this.h.truncate(0);
    this.hash = createHash('sha256');
    this.offset = 0;
  }

  async contents(maxBytes: number): Promise<Buffer> {
    this.check();
    if (this.offset > maxBytes) throw invalidArgument(`${this.ref} is ${this.offset} bytes, more than the ${maxBytes} allowed here`);
    return fs.readFile(this.p.data);
  }

  async commit(expected: ExpectedContent = {}): Promise<BlobInfo> {
    this.check();
    this.done = true;
    try {
      await this.h.sync();
      await this.h.close();
      const size = this.offset;
      const digest = `sha256:${this.hash.digest('hex')}`;
      if (expected.size !== undefined && expected.size !== size) {
        throw invalidArgument(`${this.ref}: got ${size} bytes, expected ${expected.size}`, 'the source is truncated or not the content it claims to be');
      }
      if (expected.digest !== undefined) hexOf(expected.digest); // refuses a malformed or non-sha256 digest
      if (expected.digest !== undefined && expected.digest !== digest) {
        throw invalidArgument(`${this.ref}: content has digest ${digest}, expected ${expected.digest}`, 'the source is corrupt or not the content it claims to be');
      }
      await publish(this.store.blobsDir, this.p.data, digest.slice('sha256:'.length));
      return { digest, size };
    } finally {
      await fs.rm(this.p.dir, { recursive: true, force: true });
      await this.held.release({ remove: true });
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.h.close().catch(() => undefined);
    await fs.rm(this.p.dir, { recursive: true, force: true });
    await this.held.release({ remove: true });
  }

  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.h.sync();
    await this.h.close();
    await this.held.release();
  }
}
