// The Win32 backup stream: what BackupRead produces and BackupWrite consumes, and the content of each
// file in an ImportLayer/ExportLayer transport folder. A sequence of WIN32_STREAM_ID headers (20
// bytes: StreamId u32, Attributes u32, Size u64, NameSize u32, all little-endian) each followed by a
// UTF-16LE name of NameSize bytes and Size bytes of data (go-winio backup.go; MS WIN32_STREAM_ID).
import { invalidArgument } from '../../../errors';

export const BackupStreamId = {
  Data: 1,
  ExtendedAttributes: 2,
  Security: 3,
  AlternateData: 4,
  Link: 5,
  PropertyData: 6,
  ObjectId: 7,
  ReparseData: 8,
  SparseBlock: 9,
  Transactional: 10,
} as const;

/** STREAM_SPARSE_ATTRIBUTE: the stream is sparse (its blocks follow as SparseBlock streams). */
export const STREAM_SPARSE_ATTRIBUTE = 8;

export const STREAM_HEADER_SIZE = 20;

export interface BackupStreamHeader {
  id: number;
  attributes: number;
  size: number;
  /** e.g. ":stream:$DATA" for an alternate data stream; '' for unnamed streams. */
  name: string;
}

export interface BackupStream extends BackupStreamHeader {
  data: Buffer;
}

export function encodeStreamHeader(h: BackupStreamHeader): Buffer {
  const name = Buffer.from(h.name, 'utf16le');
  const b = Buffer.alloc(STREAM_HEADER_SIZE + name.length);
  b.writeUInt32LE(h.id, 0);
  b.writeUInt32LE(h.attributes, 4);
  b.writeBigUInt64LE(BigInt(h.size), 8);
  b.writeUInt32LE(name.length, 16);
  name.copy(b, STREAM_HEADER_SIZE);
  return b;
}

export function encodeBackupStream(streams: Array<Omit<BackupStream, 'size'>>): Buffer {
  const parts: Buffer[] = [];
  for (const s of streams) {
    parts.push(encodeStreamHeader({ id: s.id, attributes: s.attributes, size: s.data.length, name: s.name }), s.data);
  }
  return Buffer.concat(parts);
}

/**
 * Reads one header at `offset` of `buf`; undefined at the end. The header must be whole; a truncated
 * stream is bad input, never read past.
 */
export function decodeStreamHeader(buf: Buffer, offset: number): { header: BackupStreamHeader; dataOffset: number } | undefined {
  if (offset === buf.length) return undefined;
  if (offset + STREAM_HEADER_SIZE > buf.length) throw invalidArgument('A Windows backup stream ends inside a stream header', 'the layer is corrupt; pull it again');
  const size = buf.readBigUInt64LE(offset + 8);
  const nameSize = buf.readUInt32LE(offset + 16);
  if (nameSize % 2 !== 0 || offset + STREAM_HEADER_SIZE + nameSize > buf.length) {
    throw invalidArgument('A Windows backup stream has a malformed stream name', 'the layer is corrupt; pull it again');
  }
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidArgument('A Windows backup stream declares an impossible size');
  const name = buf.toString('utf16le', offset + STREAM_HEADER_SIZE, offset + STREAM_HEADER_SIZE + nameSize);
  return {
    header: { id: buf.readUInt32LE(offset), attributes: buf.readUInt32LE(offset + 4), size: Number(size), name },
    dataOffset: offset + STREAM_HEADER_SIZE + nameSize,
  };
}

export function decodeBackupStream(buf: Buffer): BackupStream[] {
  const out: BackupStream[] = [];
  let offset = 0;
  for (;;) {
    const h = decodeStreamHeader(buf, offset);
    if (!h) return out;
    const end = h.dataOffset + h.header.size;
    if (end > buf.length) throw invalidArgument('A Windows backup stream ends inside stream data', 'the layer is corrupt; pull it again');
    out.push({ ...h.header, data: buf.subarray(h.dataOffset, end) });
    offset = end;
  }
}
