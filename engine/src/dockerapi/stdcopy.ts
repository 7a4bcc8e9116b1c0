// Docker's multiplexed stream framing for attach, logs and exec without a TTY (moby pkg/stdcopy):
// each frame is an 8-byte header [stream, 0, 0, 0, size uint32 big-endian] and `size` bytes.
// With a TTY there is one stream and no framing: bytes go through raw.

export const enum StdStream {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  /** Docker 1.42+ sends system errors on stream 3; Silo announces 1.41 and never does. */
}

export function frame(stream: StdStream, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

/** Splits a multiplexed byte stream back into frames (tests, and clients of Silo's own). */
export function* readFrames(data: Buffer): Generator<{ stream: number; payload: Buffer }> {
  let off = 0;
  while (off + 8 <= data.length) {
    const size = data.readUInt32BE(off + 4);
    if (off + 8 + size > data.length) return;
    yield { stream: data[off], payload: data.subarray(off + 8, off + 8 + size) };
    off += 8 + size;
  }
}

/** The content types Docker sends for the two shapes. */
export const RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';
