// Binary-exact PAX extended attributes (SCHILY.xattr.<name>, the GNU tar / Docker form).
// tar-stream decodes and encodes PAX values as UTF-8 text, which corrupts binary values such as
// security.capability (a little-endian struct, any byte). Here the records are read and written as bytes.
import type * as tarStream from 'tar-stream';

const XATTR = 'SCHILY.xattr.';

/** Parses PAX records ("<len> <key>=<value>\n") keeping each value's bytes. */
export function decodePaxRecords(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length) {
    const space = buf.indexOf(0x20, off);
    if (space < 0) break;
    const len = Number(buf.toString('latin1', off, space));
    if (!Number.isSafeInteger(len) || len <= 0 || off + len > buf.length) break;
    const record = buf.subarray(space + 1, off + len - 1); // without the trailing newline
    const eq = record.indexOf(0x3d);
    if (eq > 0) out.set(record.toString('utf8', 0, eq), Buffer.from(record.subarray(eq + 1)));
    off += len;
  }
  return out;
}

/** Encodes PAX records; the length prefix counts itself (POSIX pax "extended header"). */
export function encodePaxRecords(records: Iterable<[string, Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
    let digits = String(body.length).length;
    if (String(body.length + digits).length > digits) digits++;
    parts.push(Buffer.concat([Buffer.from(String(body.length + digits), 'latin1'), body]));
  }
  return Buffer.concat(parts);
}

const rawByPax = new WeakMap<object, [string, Buffer][]>();

interface ExtractInternals {
  _decodeLongHeader?: (buf: Buffer) => void;
  _header?: { type?: string } | null;
  _pax?: object | null;
}

/**
 * The entry's xattrs as exact bytes. Uses the raw PAX record when `attach` could see it, else the
 * text tar-stream decoded (right for every UTF-8 value).
 */
export function rawPaxXattrs(header: tarStream.Header): [string, Buffer][] {
  const pax = header.pax as Record<string, string> | null | undefined;
  if (!pax) return [];
  const raw = rawByPax.get(pax);
  if (raw) return raw;
  const out: [string, Buffer][] = [];
  for (const key of Object.keys(pax)) {
    if (key.startsWith(XATTR)) out.push([key.slice(XATTR.length), Buffer.from(pax[key], 'utf8')]);
  }
  return out;
}

/**
 * Lets one tar-stream extractor keep raw xattr bytes: wraps its (private) PAX decoding step so the
 * record buffer is also parsed here. If a future tar-stream renames that step, nothing breaks: values
 * fall back to tar-stream's UTF-8 text.
 */
rawPaxXattrs.attach = function attach(ex: tarStream.Extract): void {
  const inner = ex as unknown as ExtractInternals;
  const decode = inner._decodeLongHeader;
  if (typeof decode !== 'function') return;
  inner._decodeLongHeader = function (this: ExtractInternals, buf: Buffer) {
    decode.call(this, buf);
    if (this._header?.type !== 'pax-header' || !this._pax) return;
    const xattrs: [string, Buffer][] = [];
    for (const [key, value] of decodePaxRecords(Buffer.from(buf))) {
      if (key.startsWith(XATTR)) xattrs.push([key.slice(XATTR.length), value]);
    }
    rawByPax.set(this._pax, xattrs);
  };
};

function octal(buf: Buffer, value: number, off: number, len: number): void {
  buf.write(value.toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
}

/**
 * The raw tar bytes of a PAX extended header ('x') holding `records`, to precede the entry it
 * describes: a ustar header block, the records, padding to 512 bytes. (tar-stream's pack cannot
 * carry a body for a 'pax-header' entry, so these bytes are pushed into its stream between entries.)
 */
export function paxHeaderBlocks(records: Iterable<[string, Buffer]>): Buffer {
  const body = encodePaxRecords(records);
  const block = Buffer.alloc(512);
  block.write('PaxHeader', 0, 100, 'latin1');
  octal(block, 0o644, 100, 8);
  octal(block, 0, 108, 8);
  octal(block, 0, 116, 8);
  octal(block, body.length, 124, 12);
  octal(block, 0, 136, 12);
  block.write('x', 156, 1, 'latin1');
  block.write('ustar\u000000', 257, 8, 'latin1');
  block.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  let sum = 0;
  for (const b of block) sum += b;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  const pad = (512 - (body.length % 512)) % 512;
  return Buffer.concat([block, body, Buffer.alloc(pad)]);
}
