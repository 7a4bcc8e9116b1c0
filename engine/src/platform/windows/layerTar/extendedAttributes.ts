// NTFS extended attributes as the backup stream carries them: a chain of FILE_FULL_EA_INFORMATION
// records (NextEntryOffset u32, Flags u8, EaNameLength u8, EaValueLength u16, name, NUL, value), each
// padded to 4 bytes except the last (go-winio ea.go; MS FILE_FULL_EA_INFORMATION).
import { invalidArgument } from '../../../errors';

export interface ExtendedAttribute {
  name: string;
  value: Buffer;
  flags?: number;
}

export function encodeExtendedAttributes(eas: ExtendedAttribute[]): Buffer {
  const parts: Buffer[] = [];
  eas.forEach((ea, i) => {
    const name = Buffer.from(ea.name, 'latin1');
    if (name.length > 255 || ea.value.length > 0xffff) {
      throw invalidArgument(`The extended attribute ${JSON.stringify(ea.name)} is too large for NTFS`);
    }
    const size = 8 + name.length + 1 + ea.value.length;
    const last = i === eas.length - 1;
    const padded = last ? size : (size + 3) & ~3;
    const b = Buffer.alloc(padded);
    b.writeUInt32LE(last ? 0 : padded, 0);
    b.writeUInt8(ea.flags ?? 0, 4);
    b.writeUInt8(name.length, 5);
    b.writeUInt16LE(ea.value.length, 6);
    name.copy(b, 8);
    ea.value.copy(b, 8 + name.length + 1);
    parts.push(b);
  });
  return Buffer.concat(parts);
}

export function decodeExtendedAttributes(buf: Buffer): ExtendedAttribute[] {
  const out: ExtendedAttribute[] = [];
  let offset = 0;
  while (offset < buf.length) {
    if (offset + 8 > buf.length) throw invalidArgument('An extended attribute record is truncated', 'the layer is corrupt');
    const next = buf.readUInt32LE(offset);
    const flags = buf.readUInt8(offset + 4);
    const nameLen = buf.readUInt8(offset + 5);
    const valueLen = buf.readUInt16LE(offset + 6);
    const end = offset + 8 + nameLen + 1 + valueLen;
    if (end > buf.length || buf[offset + 8 + nameLen] !== 0) throw invalidArgument('An extended attribute record is malformed', 'the layer is corrupt');
    const ea: ExtendedAttribute = { name: buf.toString('latin1', offset + 8, offset + 8 + nameLen), value: Buffer.from(buf.subarray(offset + 8 + nameLen + 1, end)) };
    if (flags !== 0) ea.flags = flags; // a tar does not carry flags (go-winio), so 0 stays implicit
    out.push(ea);
    if (next === 0) break;
    if (next < end - offset) throw invalidArgument('An extended attribute chain points backwards', 'the layer is corrupt');
    offset += next;
  }
  return out;
}
