// The PAX records of a Windows layer tar (go-winio backuptar/tar.go, strconv.go):
//   MSWINDOWS.fileattr        Win32 attributes, decimal
//   MSWINDOWS.rawsd           base64 of the binary security descriptor (legacy: MSWINDOWS.sd, SDDL)
//   MSWINDOWS.mountpoint      present on a symlink entry that is really a junction
//   MSWINDOWS.xattr.<name>    an extended attribute, base64
//   LIBARCHIVE.creationtime   creation time, PAX time "<secs>[.<nanos>]" with trailing zeros trimmed
// and the standard mtime / atime / ctime records with full precision.
import { invalidArgument } from '../../../errors';
import { FileAttribute, type WindowsFileInfo } from './entry';

export const PaxKey = {
  FileAttributes: 'MSWINDOWS.fileattr',
  RawSecurityDescriptor: 'MSWINDOWS.rawsd',
  SecurityDescriptor: 'MSWINDOWS.sd',
  MountPoint: 'MSWINDOWS.mountpoint',
  ExtendedAttributePrefix: 'MSWINDOWS.xattr.',
  CreationTime: 'LIBARCHIVE.creationtime',
} as const;

const NS = 1_000_000_000n;

export function formatPaxTime(ns: bigint): string {
  const neg = ns < 0n;
  const abs = neg ? -ns : ns;
  const frac = abs % NS;
  // Go's formatPAXTime writes a negative time as the sign and the absolute value.
  let s = `${neg ? '-' : ''}${abs / NS}`;
  if (frac !== 0n) s += '.' + frac.toString().padStart(9, '0').replace(/0+$/, '');
  return s;
}

export function parsePaxTime(s: string, key: string): bigint {
  const m = /^(-?)(\d{1,19})(?:\.(\d+))?$/.exec(s);
  if (!m) throw invalidArgument(`The PAX record ${key}=${JSON.stringify(s)} is not a time`, 'the layer is corrupt');
  const frac = BigInt((m[3] ?? '').slice(0, 9).padEnd(9, '0'));
  const v = BigInt(m[2]) * NS + frac;
  return m[1] === '-' ? -v : v;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64(value: string, key: string): Buffer {
  if (!BASE64.test(value) || value.length % 4 !== 0) throw invalidArgument(`The PAX record ${key} is not base64`, 'the layer is corrupt');
  return Buffer.from(value, 'base64');
}

/** Windows file info from an entry's PAX records and header times; `isDirectory` from the typeflag. */
export function fileInfoFromPax(pax: Record<string, string>, mtimeSeconds: number, isDirectory: boolean): WindowsFileInfo {
  let attributes: number;
  const attr = pax[PaxKey.FileAttributes];
  if (attr !== undefined) {
    if (!/^\d{1,10}$/.test(attr) || Number(attr) > 0xffffffff) throw invalidArgument(`The PAX record ${PaxKey.FileAttributes}=${JSON.stringify(attr)} is not a 32-bit number`, 'the layer is corrupt');
    attributes = Number(attr);
  } else {
    attributes = isDirectory ? FileAttribute.Directory : 0;
  }
  const lastWriteTime = pax.mtime !== undefined ? parsePaxTime(pax.mtime, 'mtime') : BigInt(mtimeSeconds) * NS;
  const info: WindowsFileInfo = { attributes, lastWriteTime };
  if (pax[PaxKey.CreationTime] !== undefined) info.creationTime = parsePaxTime(pax[PaxKey.CreationTime], PaxKey.CreationTime);
  if (pax.atime !== undefined) info.lastAccessTime = parsePaxTime(pax.atime, 'atime');
  if (pax.ctime !== undefined) info.changeTime = parsePaxTime(pax.ctime, 'ctime');
  if (pax[PaxKey.RawSecurityDescriptor] !== undefined) info.securityDescriptor = base64(pax[PaxKey.RawSecurityDescriptor], PaxKey.RawSecurityDescriptor);
  else if (pax[PaxKey.SecurityDescriptor] !== undefined) info.sddl = pax[PaxKey.SecurityDescriptor];
  const eas = Object.keys(pax).filter((k) => k.startsWith(PaxKey.ExtendedAttributePrefix));
  if (eas.length) {
    info.extendedAttributes = eas.map((k) => ({ name: k.slice(PaxKey.ExtendedAttributePrefix.length), value: base64(pax[k], k) }));
  }
  return info;
}

/** PAX records for an entry, in one fixed order so a written layer is byte-for-byte reproducible. */
export function paxFromFileInfo(info: WindowsFileInfo, mountPoint = false): Record<string, string> {
  const pax: Record<string, string> = {};
  pax.mtime = formatPaxTime(info.lastWriteTime);
  if (info.lastAccessTime !== undefined) pax.atime = formatPaxTime(info.lastAccessTime);
  if (info.changeTime !== undefined) pax.ctime = formatPaxTime(info.changeTime);
  pax[PaxKey.FileAttributes] = String(info.attributes >>> 0);
  if (info.securityDescriptor) pax[PaxKey.RawSecurityDescriptor] = info.securityDescriptor.toString('base64');
  else if (info.sddl !== undefined) pax[PaxKey.SecurityDescriptor] = info.sddl;
  if (mountPoint) pax[PaxKey.MountPoint] = '1';
  for (const ea of info.extendedAttributes ?? []) pax[PaxKey.ExtendedAttributePrefix + ea.name] = ea.value.toString('base64');
  if (info.creationTime !== undefined) pax[PaxKey.CreationTime] = formatPaxTime(info.creationTime);
  return pax;
}
