// A directory of JSON records, one file per key, each write atomic (atomic.ts). Readers never see a
// half-written record; temp files left by a writer that died are skipped and removed.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { invalidArgument, SiloError } from '../errors';
import { isStaleTemp, TEMP_PREFIX, writeFileAtomic } from './atomic';

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;
const SUFFIX = '.json';

export class RecordStore<T> {
  constructor(
    readonly dir: string,
    /** Records larger than this are refused on read as corrupt (they are written by the engine only). */
    private readonly maxBytes = 16 * 1024 * 1024,
  ) {}

  private fileOf(key: string): string {
    if (!KEY.test(key) || key.includes('..')) throw invalidArgument(`invalid record key "${key}"`);
    return path.join(this.dir, key + SUFFIX);
  }

  /** The record, or undefined when there is none. A corrupt record is an Internal error naming its file. */
  async get(key: string): Promise<T | undefined> {
    const file = this.fileOf(key);
    let text: string;
    try {
      const st = await fs.stat(file);
      if (st.size > this.maxBytes) throw new SiloError('Internal', `record ${file} is larger than ${this.maxBytes} bytes`);
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new SiloError('Internal', `record ${file} is not valid JSON`, 'remove the file; the store keeps working without it');
    }
  }

  async put(key: string, value: T): Promise<void> {
    const file = this.fileOf(key);
    await fs.mkdir(this.dir, { recursive: true });
    await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', 0o600);
  }

  /** Removes the record; false when there was none. */
  async delete(key: string): Promise<boolean> {
    try {
      await fs.unlink(this.fileOf(key));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /** Every key, sorted. Removes temp files whose writer is gone. */
  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const keys: string[] = [];
    for (const name of names) {
      if (name.startsWith(TEMP_PREFIX)) {
        if (isStaleTemp(name)) await fs.rm(path.join(this.dir, name), { force: true });
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      const key = name.slice(0, -SUFFIX.length);
      if (KEY.test(key)) keys.push(key);
    }
    return keys.sort();
  }

  /** Every readable record; unreadable ones are skipped so one bad file cannot hide the rest. */
  async entries(): Promise<Array<[string, T]>> {
    const out: Array<[string, T]> = [];
    for (const key of await this.list()) {
      try {
        const v = await this.get(key);
        if (v !== undefined) out.push([key, v]);
      } catch (err) {
        if (!(err instanceof SiloError)) throw err;
      }
    }
    return out;
  }
}
