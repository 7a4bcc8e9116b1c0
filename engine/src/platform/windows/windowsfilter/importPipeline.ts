// The two ends of a layer import run side by side: the tar reader (decompression upstream, parsing
// and path checks here) runs ahead of the writer, holding small files in memory up to a budget, so
// a layer of many small files costs max(read, write) instead of read + write. Large files stream
// through unbuffered (a tar is sequential). The clock of each stage goes into LayerImportTimings, so
// a slow pull says where its time went.
import { performance } from 'node:perf_hooks';
import { invalidArgument } from '../../../errors';
import { DEFAULT_LIMITS, type ExtractLimits } from '../../../layers/extract';
import type { LayerEntry } from '../layerTar';

/** Milliseconds per stage of one applyLayer. Stages overlap, so they need not add up to totalMs. */
export interface LayerImportTimings {
  /** Waiting for and parsing the uncompressed tar: decompression and everything upstream of it. */
  decompressMs: number;
  /** Writing files: BackupWrite into a base layer, or the transport folder of a delta layer. */
  writeMs: number;
  /** vmcompute ImportLayer plus whiteouts and hard links applied after it (delta layers). */
  importMs: number;
  /** ProcessBaseImage and ProcessUtilityImage (base layers). */
  processMs: number;
  /** Time the writer sat idle waiting for the reader: the part of decompressMs pipelining did not hide. */
  stalledMs: number;
  totalMs: number;
}

export interface LayerImportResult {
  /** Bytes of file and stream content unpacked. */
  size: number;
  timings: LayerImportTimings;
}

export function newTimings(): LayerImportTimings {
  return { decompressMs: 0, writeMs: 0, importMs: 0, processMs: 0, stalledMs: 0, totalMs: 0 };
}

/** Files up to this size are read ahead into memory. */
const SMALL_FILE = 1 << 20;
/** Bytes of small files the reader may hold ahead of the writer. */
const READ_AHEAD_BYTES = 32 << 20;
const READ_AHEAD_ENTRIES = 4096;

export interface CountedEntries {
  entries: AsyncIterable<LayerEntry>;
  /** Content bytes seen so far. */
  bytes(): number;
}

/**
 * Runs `source` ahead of its consumer and enforces the extraction limits. Time spent pulling from
 * `source` is decompressMs; time the consumer waits for an entry is stalledMs.
 */
export function readAhead(source: AsyncIterable<LayerEntry>, timings: LayerImportTimings, limits?: ExtractLimits): CountedEntries {
  const max = { ...DEFAULT_LIMITS, ...(limits ?? {}) };
  let bytes = 0;
  let count = 0;
  const queue: Array<{ entry: LayerEntry; held: number }> = [];
  let held = 0;
  let done = false;
  let failure: unknown;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  let streaming: Promise<void> | undefined;
  let releaseStreaming: (() => void) | undefined;
  let stopped = false;
  const wait = (set: (w: () => void) => void) => new Promise<void>((r) => set(r));

  const account = (size: number) => {
    bytes += size;
    if (bytes > max.maxBytes) throw invalidArgument(`The layer holds more than ${max.maxBytes} bytes`, 'the layer is malformed or hostile; use an image from a source you trust');
  };

  const produce = async () => {
    const it = source[Symbol.asyncIterator]();
    try {
      while (!stopped) {
        const t0 = performance.now();
        const next = await it.next();
        timings.decompressMs += performance.now() - t0;
        if (next.done || stopped) break;
        let entry = next.value;
        if (++count > max.maxEntries) throw invalidArgument(`The layer holds more than ${max.maxEntries} entries`, 'the layer is malformed or hostile; use an image from a source you trust');
        let size = 0;
        if (entry.type === 'file' || entry.type === 'alternateStream') {
          account(entry.size);
          if (entry.size <= SMALL_FILE && !Buffer.isBuffer(entry.body)) {
            const t1 = performance.now();
            const chunks: Buffer[] = [];
            for await (const c of entry.body) chunks.push(Buffer.from(c));
            timings.decompressMs += performance.now() - t1;
            entry = { ...entry, body: Buffer.concat(chunks) };
            size = entry.size;
          } else if (!Buffer.isBuffer(entry.body)) {
            // The writer must read this body before the reader can go on: hand it over and wait.
            let finished!: () => void;
            streaming = new Promise<void>((r) => (finished = releaseStreaming = r));
            const body = entry.body;
            entry = {
              ...entry,
              body: {
                async *[Symbol.asyncIterator]() {
                  try {
                    for await (const c of body) yield c;
                  } finally {
                    finished();
                  }
                },
              },
            };
          }
        }
        queue.push({ entry, held: size });
        held += size;
        wakeConsumer?.();
        if (streaming) {
          await streaming;
          streaming = undefined;
        }
        while (!stopped && (held > READ_AHEAD_BYTES || queue.length > READ_AHEAD_ENTRIES)) await wait((w) => (wakeProducer = w));
      }
      if (stopped) await it.return?.();
    } catch (err) {
      failure ??= err;
    } finally {
      done = true;
      wakeConsumer?.();
    }
  };

  const entries: AsyncIterable<LayerEntry> = {
    async *[Symbol.asyncIterator]() {
      const producing = produce();
      try {
        for (;;) {
          if (queue.length === 0 && !done) {
            const t0 = performance.now();
            while (queue.length === 0 && !done) await wait((w) => (wakeConsumer = w));
            timings.stalledMs += performance.now() - t0;
          }
          const item = queue.shift();
          if (!item) {
            if (failure) throw failure;
            return;
          }
          held -= item.held;
          wakeProducer?.();
          yield item.entry;
        }
      } finally {
        // A consumer that stops early (an error while writing) stops the reader; the caller destroys
        // the tar stream, which ends a read still waiting upstream.
        if (!done) {
          stopped = true;
          queue.length = 0;
          held = 0;
          releaseStreaming?.();
          wakeProducer?.();
        }
        void producing;
      }
    },
  };
  return { entries, bytes: () => bytes };
}
