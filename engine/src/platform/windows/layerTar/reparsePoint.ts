// Symbolic link and mount point (junction) reparse data, as in the backup stream's REPARSE_DATA and
// as `Linkname` + `MSWINDOWS.mountpoint` in a layer tar (go-winio reparse.go; MS REPARSE_DATA_BUFFER).
// Header: ReparseTag u32, ReparseDataLength u16, Reserved u16, then SubstituteNameOffset/Length and
// PrintNameOffset/Length (u16 each), symlinks add Flags u32 (1 = relative), then the two UTF-16 names.
import { invalidArgument, notImplemented } from '../../../errors';

export const IO_REPARSE_TAG_MOUNT_POINT = 0xa0000003;
export const IO_REPARSE_TAG_SYMLINK = 0xa000000c;
const SYMLINK_FLAG_RELATIVE = 1;

export interface ReparsePoint {
  target: string;
  mountPoint: boolean;
}

function isDriveLetter(c: string): boolean {
  return /^[A-Za-z]$/.test(c);
}

export function encodeReparsePoint(rp: ReparsePoint): Buffer {
  let nt: string;
  let relative = false;
  const t = rp.target;
  if (t.startsWith('\\\\?\\')) nt = '\\??\\' + t.slice(4);
  else if (t.startsWith('\\\\')) nt = '\\??\\UNC\\' + t.slice(2);
  else if (t.length >= 2 && isDriveLetter(t[0]) && t[1] === ':') nt = '\\??\\' + t;
  else {
    nt = t;
    relative = true;
  }
  const target16 = Buffer.from(t + '\0', 'utf16le');
  const nt16 = Buffer.from(nt + '\0', 'utf16le');
  const flagsSize = rp.mountPoint ? 0 : 4;
  const dataLength = 8 + flagsSize + nt16.length + target16.length;
  const b = Buffer.alloc(8 + dataLength);
  b.writeUInt32LE(rp.mountPoint ? IO_REPARSE_TAG_MOUNT_POINT : IO_REPARSE_TAG_SYMLINK, 0);
  b.writeUInt16LE(dataLength, 4);
  b.writeUInt16LE(0, 8);
  b.writeUInt16LE(nt16.length - 2, 10);
  b.writeUInt16LE(nt16.length, 12);
  b.writeUInt16LE(target16.length - 2, 14);
  let o = 16;
  if (!rp.mountPoint) {
    b.writeUInt32LE(relative ? SYMLINK_FLAG_RELATIVE : 0, 16);
    o = 20;
  }
  nt16.copy(b, o);
  target16.copy(b, o + nt16.length);
  return b;
}

/** The target is the print name, as go-winio reads it. */
export function decodeReparsePoint(b: Buffer): ReparsePoint {
  if (b.length < 16) throw invalidArgument('A reparse point record is truncated', 'the layer is corrupt');
  const tag = b.readUInt32LE(0);
  if (tag !== IO_REPARSE_TAG_MOUNT_POINT && tag !== IO_REPARSE_TAG_SYMLINK) {
    throw notImplemented(`Reparse points of tag 0x${tag.toString(16)} cannot be carried in a layer`, 'only symbolic links and junctions can');
  }
  const mountPoint = tag === IO_REPARSE_TAG_MOUNT_POINT;
  const printOffset = b.readUInt16LE(12);
  const printLength = b.readUInt16LE(14);
  const start = 16 + (mountPoint ? 0 : 4) + printOffset;
  if (start + printLength > b.length || printLength % 2 !== 0) throw invalidArgument('A reparse point record is malformed', 'the layer is corrupt');
  return { target: b.toString('utf16le', start, start + printLength), mountPoint };
}
