// Writes a container's stdout/stderr in the log format runtime/logs.ts reads (JSON lines
// {"log","stream","time"}, one write per line, as the Linux monitor writes them), and its exit record.
import { promises as fs } from 'node:fs';
import type { Readable } from 'node:stream';
import type { ExitStatus } from '../../runtime/runtime';

function now(): string {
  const d = new Date();
  const ns = process.hrtime.bigint() % 1_000_000n;
  return d.toISOString().replace(/\.(\d{3})Z$/, (_, ms) => `.${ms}${ns.toString().padStart(6, '0')}Z`);
}

/** Appends every line of `stream` to `file`; a last line without newline is written at the end. */
export async function pumpToLog(stream: Readable, streamName: 'stdout' | 'stderr', file: string): Promise<void> {
  const fh = await fs.open(file, 'a');
  let tail = '';
  const write = (text: string) => fh.write(JSON.stringify({ log: text, stream: streamName, time: now() }) + '\n');
  try {
    for await (const chunk of stream) {
      tail += chunk.toString();
      let nl: number;
      while ((nl = tail.indexOf('\n')) >= 0) {
        await write(tail.slice(0, nl + 1));
        tail = tail.slice(nl + 1);
      }
    }
  } catch {
    // a broken pipe at exit ends the stream (ERROR_BROKEN_PIPE is normal, hcs.md §4c)
  } finally {
    if (tail) await write(tail);
    await fh.close();
  }
}

/** The exit record, written temp + rename so a reader never sees half of it. */
export async function writeExitRecord(file: string, exit: ExitStatus): Promise<void> {
  const tmp = `${file}.tmp`;
  await fs.writeFile(tmp, JSON.stringify({ exitCode: exit.exitCode, signal: exit.signal ?? null, oomKilled: exit.oomKilled, finishedAt: exit.finishedAt }));
  await fs.rename(tmp, file);
}
