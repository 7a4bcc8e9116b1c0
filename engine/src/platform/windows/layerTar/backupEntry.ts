// LayerEntry <-> Win32 backup stream, the two directions go-winio backuptar implements
// (WriteBackupStreamFromTarFile, WriteTarFileFromBackupStream). Order written: SECURITY, EA,
// REPARSE, DATA, then each alternate data stream (named ":<stream>:$DATA").
import { invalidArgument, notImplemented } from '../../../errors';
import { BackupStreamId, encodeStreamHeader, STREAM_SPARSE_ATTRIBUTE, type BackupStream } from './backupStream';
import { FileAttribute, type LayerBody, type LayerEntry, type WindowsFileInfo } from './entry';
import { decodeExtendedAttributes, encodeExtendedAttributes } from './extendedAttributes';
import { decodeReparsePoint, encodeReparsePoint } from './reparsePoint';

type Streamed = Extract<LayerEntry, { type: 'file' | 'directory' | 'reparsePoint' }>;

/** The backup stream's leading parts (security, EAs, reparse data) and the DATA header, for one entry. */
export function backupStreamPrefix(entry: Streamed): Buffer {
  const parts: Buffer[] = [];
  const { info } = entry;
  if (info.sddl !== undefined && !info.securityDescriptor) {
    throw notImplemented(`The layer entry ${JSON.stringify(entry.path)} has only an SDDL security descriptor`, 'Silo reads MSWINDOWS.rawsd; re-export the layer with a current tool');
  }
  if (info.securityDescriptor?.length) {
    parts.push(encodeStreamHeader({ id: BackupStreamId.Security, attributes: 0, size: info.securityDescriptor.length, name: '' }), info.securityDescriptor);
  }
  if (info.extendedAttributes?.length) {
    const ea = encodeExtendedAttributes(info.extendedAttributes);
    parts.push(encodeStreamHeader({ id: BackupStreamId.ExtendedAttributes, attributes: 0, size: ea.length, name: '' }), ea);
  }
  if (entry.type === 'reparsePoint') {
    const rp = encodeReparsePoint({ target: entry.target.replace(/\//g, '\\'), mountPoint: entry.mountPoint });
    parts.push(encodeStreamHeader({ id: BackupStreamId.ReparseData, attributes: 0, size: rp.length, name: '' }), rp);
  }
  if (entry.type === 'file') parts.push(encodeStreamHeader({ id: BackupStreamId.Data, attributes: 0, size: entry.size, name: '' }));
  return Buffer.concat(parts);
}

export function alternateStreamHeader(streamName: string, size: number): Buffer {
  return encodeStreamHeader({ id: BackupStreamId.AlternateData, attributes: 0, size, name: `:${streamName}:$DATA` });
}

/** The whole backup stream of an entry with its alternate streams, as chunks. Bodies must match their sizes. */
export async function* backupStreamOf(entry: Streamed, streams: Array<{ name: string; size: number; body: LayerBody }> = []): AsyncGenerator<Uint8Array> {
  yield backupStreamPrefix(entry);
  if (entry.type === 'file') yield* sized(entry.body, entry.size, entry.path);
  for (const s of streams) {
    yield alternateStreamHeader(s.name, s.size);
    yield* sized(s.body, s.size, `${entry.path}:${s.name}`);
  }
}

export async function* sized(body: LayerBody, size: number, what: string): AsyncGenerator<Uint8Array> {
  let n = 0;
  if (Buffer.isBuffer(body)) {
    n = body.length;
    yield body;
  } else {
    for await (const chunk of body) {
      n += chunk.length;
      if (n > size) break;
      yield chunk;
    }
  }
  if (n !== size) throw invalidArgument(`The layer entry ${JSON.stringify(what)} has ${n} bytes, its header says ${size}`, 'the layer is corrupt');
}

/** What a decoded backup stream says about one path: the entry plus its alternate streams. */
export interface DecodedBackup {
  entry: Streamed;
  streams: Array<{ name: string; data: Buffer }>;
}

/**
 * A whole (in-memory) backup stream -> the entry it describes. Sparse data is materialised with zeros
 * and link, property, object-id and transactional streams are dropped, as go-winio does.
 */
export function entryFromBackupStreams(path: string, info: WindowsFileInfo, streams: BackupStream[]): DecodedBackup {
  const out: WindowsFileInfo = { ...info };
  let data: Buffer | undefined;
  let reparse: { target: string; mountPoint: boolean } | undefined;
  const ads: Array<{ name: string; data: Buffer }> = [];
  let sparse: Buffer[] | undefined;
  for (const s of streams) {
    switch (s.id) {
      case BackupStreamId.Data:
        data = s.data;
        if (s.attributes & STREAM_SPARSE_ATTRIBUTE) sparse = [];
        break;
      case BackupStreamId.SparseBlock: {
        if (!sparse || s.data.length < 8) throw invalidArgument(`The sparse data of ${JSON.stringify(path)} is malformed`, 'the layer is corrupt');
        const at = Number(s.data.readBigUInt64LE(0));
        const block = s.data.subarray(8);
        const cur = sparse.length ? sparse[0] : Buffer.alloc(0);
        const grown = Buffer.alloc(Math.max(cur.length, at + block.length));
        cur.copy(grown);
        block.copy(grown, at);
        sparse[0] = grown;
        break;
      }
      case BackupStreamId.Security:
        out.securityDescriptor = Buffer.from(s.data);
        break;
      case BackupStreamId.ExtendedAttributes:
        out.extendedAttributes = decodeExtendedAttributes(s.data);
        break;
      case BackupStreamId.ReparseData:
        reparse = decodeReparsePoint(s.data);
        break;
      case BackupStreamId.AlternateData: {
        const m = /^:([^:]+):\$DATA$/.exec(s.name);
        if (!m) throw invalidArgument(`The alternate stream ${JSON.stringify(s.name)} of ${JSON.stringify(path)} is not a $DATA stream`);
        ads.push({ name: m[1], data: Buffer.from(s.data) });
        break;
      }
      default:
        break;
    }
  }
  if (sparse) data = sparse[0] ?? Buffer.alloc(0);
  if (reparse) return { entry: { type: 'reparsePoint', path, info: out, target: reparse.target, mountPoint: reparse.mountPoint }, streams: ads };
  if (out.attributes & FileAttribute.Directory) return { entry: { type: 'directory', path, info: out }, streams: ads };
  const body = data ? Buffer.from(data) : Buffer.alloc(0);
  return { entry: { type: 'file', path, info: out, size: body.length, body }, streams: ads };
}
