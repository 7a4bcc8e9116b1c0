// Reading and following a container's log: JSON lines written by its monitor,
// {"log":"...","stream":"stdout|stderr","time":"RFC3339Nano"}, rotated as FILE -> FILE.1 -> FILE.2 ...
//
// Following never loses or repeats a line:
// - the monitor writes each line with one write(2), so a reader sees whole lines or a partial tail it
//   keeps until the newline arrives;
// - on rotation the path names a new inode; the reader finishes the old open file first;
// - every delivered line carries a cursor "inode:offset-after-line", so a client whose engine restarted
//   resumes exactly where it stopped (the file with that inode may since have become FILE.1).
import { watch, promises as fs, type FSWatcher } from 'node:fs';
import * as path from 'node:path';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  log: string;
  time: string;
}

export interface LogLine extends LogEntry {
  cursor: string;
}

export interface LogReadOptions {
  follow?: boolean;
  /** Only lines at or after this instant (RFC 3339, or Unix seconds as in `docker logs --since`). */
  since?: string;
  until?: string;
  /** Only the last N lines of what exists now (then follow). */
  tail?: number;
  /** Resume after this cursor (from a previous LogLine). */
  cursor?: string;
  /** When following: true once no more lines can come (the container has exited and its log is flushed). */
  done?: () => Promise<boolean>;
  signal?: AbortSignal;
}

/** Parses `--since` / `--until`: RFC 3339, Unix seconds (with fraction), or a duration like 10m, 1h30m. */
export function parseTimeBound(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const dur = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(value);
  if (dur && value) return now - ((Number(dur[1] ?? 0) * 60 + Number(dur[2] ?? 0)) * 60 + Number(dur[3] ?? 0)) * 1000;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new Error(`invalid time "${value}": use RFC 3339, Unix seconds, or a duration such as 10m`);
  return t;
}

/** Milliseconds of an RFC3339Nano stamp, plus the nanoseconds within that millisecond, for exact compares. */
function stampKey(time: string): string {
  return time; // fixed-width UTC stamps ("...T01:02:03.123456789Z") order as strings
}

function isoOf(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000000Z');
}

async function rotatedFiles(file: string): Promise<string[]> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const nums = names
    .filter((n) => n.startsWith(base + '.') && /^\d+$/.test(n.slice(base.length + 1)))
    .map((n) => Number(n.slice(base.length + 1)))
    .sort((a, b) => b - a);
  return [...nums.map((n) => `${file}.${n}`), file];
}

function parseLine(text: string): LogEntry | undefined {
  try {
    const e = JSON.parse(text) as LogEntry;
    return typeof e.log === 'string' && typeof e.time === 'string' ? e : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads an open file from `start`, yielding whole lines and the offset after each. A partial last line
 * (the writer is mid-line) is not yielded: the caller resumes from the last `end` and reads it later.
 */
async function* linesFrom(handle: fs.FileHandle, start: number): AsyncGenerator<{ text: string; end: number }> {
  const buf = Buffer.alloc(256 * 1024);
  let readAt = start;
  let lineOffset = start; // file offset of pending[0]
  let pending = Buffer.alloc(0);
  for (;;) {
    const { bytesRead } = await handle.read(buf, 0, buf.length, readAt);
    if (bytesRead === 0) return;
    readAt += bytesRead;
    const data = pending.length ? Buffer.concat([pending, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
    let lineStart = 0;
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, lineStart)) {
      yield { text: data.subarray(lineStart, i).toString('utf8'), end: lineOffset + i + 1 };
      lineStart = i + 1;
    }
    lineOffset += lineStart;
    pending = Buffer.from(data.subarray(lineStart));
  }
}

/** Yields the log's lines (and, with follow, new ones as they are written) until done or aborted. */
export async function* readLog(file: string, opts: LogReadOptions = {}): AsyncGenerator<LogLine> {
  const since = opts.since ? isoOf(parseTimeBound(opts.since)) : undefined;
  const until = opts.until ? isoOf(parseTimeBound(opts.until)) : undefined;
  const [curIno, curOff] = opts.cursor ? opts.cursor.split(':').map(Number) : [undefined, undefined];
  const keep = (e: LogEntry) => (!since || stampKey(e.time) >= since) && (!until || stampKey(e.time) <= until);

  // 1. What exists now, oldest file first. With a cursor, skip to the file and offset it names.
  const files = await rotatedFiles(file);
  const backlog: LogLine[] = [];
  let reachedCursor = curIno === undefined;
  let current: { handle: fs.FileHandle; ino: number; offset: number } | undefined;
  for (const f of files) {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(f, 'r');
    } catch {
      continue;
    }
    const ino = (await handle.stat()).ino;
    let start = 0;
    if (!reachedCursor) {
      if (ino !== curIno) {
        await handle.close();
        continue;
      }
      reachedCursor = true;
      start = curOff ?? 0;
    }
    let offset = start;
    for await (const { text, end } of linesFrom(handle, start)) {
      offset = end;
      const e = parseLine(text);
      if (!e || !keep(e)) continue;
      backlog.push({ ...e, cursor: `${ino}:${end}` });
      if (opts.tail !== undefined && backlog.length > opts.tail) backlog.shift();
    }
    if (f === file) current = { handle, ino, offset };
    else await handle.close();
  }
  if (opts.tail === 0) backlog.length = 0;
  for (const line of backlog) yield line;
  if (!opts.follow) {
    await current?.handle.close();
    return;
  }

  // 2. Follow: inotify on the directory wakes us for writes and renames; a slow timer covers missed events.
  let wake: () => void = () => {};
  const watcher: FSWatcher = watch(path.dirname(file), () => wake());
  const aborted = () => opts.signal?.aborted === true;
  opts.signal?.addEventListener('abort', () => wake(), { once: true });
  try {
    for (;;) {
      if (!current) {
        try {
          const handle = await fs.open(file, 'r');
          current = { handle, ino: (await handle.stat()).ino, offset: 0 };
        } catch {
          /* not created yet */
        }
      }
      if (current) {
        for await (const { text, end } of linesFrom(current.handle, current.offset)) {
          current.offset = end;
          const e = parseLine(text);
          if (e && keep(e)) yield { ...e, cursor: `${current.ino}:${end}` };
        }
        // Rotated? Then the old inode is finished (we just read it to its end): move to the new file.
        const now = await fs.stat(file).catch(() => undefined);
        if (now && now.ino !== current.ino) {
          await current.handle.close();
          current = undefined;
          continue;
        }
      }
      if (aborted()) return;
      const finished = opts.done ? await opts.done() : false;
      if (finished) {
        // The exit record is written after the log is flushed: one last read gets every line.
        if (current) {
          for await (const { text, end } of linesFrom(current.handle, current.offset)) {
            current.offset = end;
            const e = parseLine(text);
            if (e && keep(e)) yield { ...e, cursor: `${current.ino}:${end}` };
          }
        }
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    watcher.close();
    await current?.handle.close();
  }
}
