// Path safety for Windows layers (the CVE-2018-8115 class; hcsshim v0.6.10 safefile): every name is
// relative to the layer root and stays inside it. Rejected: absolute names and drive letters,
// backslashes (a separator on Windows), empty, '.' and '..' components, ':' anywhere except one
// alternate-data-stream suffix right after its file, characters and device names Windows gives a
// meaning, trailing dots and spaces (Win32 strips them, so "..." could become ".."), and any entry,
// hard link or whiteout that goes through a reparse point declared earlier in the same layer.
// Windows names are case-insensitive, so every comparison is too.
import { invalidArgument } from '../../../errors';

export type LayerSection = 'Files' | 'Hives' | 'UtilityVM';

const DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/i;
const FORBIDDEN = /[<>"|?*\x00-\x1f\\]/;

function reject(name: string, why: string): never {
  throw invalidArgument(`The layer entry ${JSON.stringify(name)} is unsafe: ${why}`, 'the image is malformed or hostile; do not use it');
}

const key = (p: string) => p.toLowerCase();

/** Splits and checks a layer-relative name; returns its components (a trailing '/' is allowed). */
export function layerPathComponents(name: string): string[] {
  if (name === '') reject(name, 'empty name');
  if (name.startsWith('/')) reject(name, 'absolute path');
  const parts = name.endsWith('/') ? name.slice(0, -1).split('/') : name.split('/');
  for (const c of parts) {
    if (c === '' || c === '.' || c === '..') reject(name, `'${c}' component`);
    if (FORBIDDEN.test(c)) reject(name, 'a character Windows treats specially');
    if (/[. ]$/.test(c)) reject(name, 'a component ending in a dot or space');
    if (DEVICE.test(c)) reject(name, 'a Windows device name');
  }
  if (/^[A-Za-z]:/.test(name)) reject(name, 'drive letter');
  return parts;
}

/** The section a path belongs to; UtilityVM content must be under UtilityVM/Files, Hives is flat. */
export function layerSection(parts: string[], name: string): LayerSection {
  const top = parts[0];
  if (top === 'Files') return 'Files';
  if (top === 'Hives') {
    if (parts.length > 2) reject(name, 'Hives holds registry files only, no folders');
    return 'Hives';
  }
  if (top === 'UtilityVM') {
    if (parts.length > 1 && parts[1] !== 'Files') reject(name, 'UtilityVM holds only a Files folder');
    return 'UtilityVM';
  }
  return reject(name, 'not under Files/, Hives/ or UtilityVM/Files/');
}

/**
 * Checks the entries of one layer in order. Tracks reparse points declared so far, the last regular
 * file (the only valid owner of the next alternate data stream) and which paths exist in this layer.
 */
export class LayerPathGuard {
  private readonly reparsePoints = new Set<string>();
  private lastFile: string | undefined;

  /** A file, directory or reparse point entry; returns its normalised path. */
  entry(name: string, kind: 'file' | 'directory' | 'reparsePoint'): string {
    const path = this.checked(name);
    this.lastFile = kind === 'file' ? path : undefined;
    if (kind === 'reparsePoint') {
      if (path.split('/').length < 2) reject(name, 'a section root cannot be a reparse point');
      this.reparsePoints.add(key(path));
    }
    return path;
  }

  /** `<file>:<stream>`; valid only right after the regular file it belongs to. */
  alternateStream(name: string): { file: string; stream: string } {
    const colon = name.indexOf(':');
    const file = name.slice(0, colon);
    const stream = name.slice(colon + 1);
    if (colon < 0 || stream === '' || stream.includes(':') || stream.includes('/') || FORBIDDEN.test(stream)) reject(name, 'malformed alternate data stream name');
    if (this.lastFile === undefined || key(this.lastFile) !== key(file)) reject(name, 'alternate data stream not right after its file');
    return { file: this.lastFile, stream };
  }

  /** A hard link and its target: both under Files/ or both under UtilityVM/Files/. */
  hardLink(name: string, target: string): { path: string; target: string } {
    const path = this.checked(name);
    this.lastFile = undefined;
    const t = this.checked(target);
    const area = (p: string) => (p.startsWith('Files/') ? 'Files' : p.startsWith('UtilityVM/Files/') ? 'UtilityVM' : undefined);
    if (area(path) === undefined || area(path) !== area(t)) reject(name, `hard link to ${JSON.stringify(target)} outside its own Files folder`);
    return { path, target: t };
  }

  /** `<dir>/.wh.<name>` -> the deleted path; only under Files/ or UtilityVM/Files/. */
  whiteout(name: string): string {
    const parts = layerPathComponents(name);
    const base = parts[parts.length - 1];
    if (base === '.wh..wh..opq') reject(name, 'opaque directory whiteouts do not exist in Windows layers');
    const deleted = [...parts.slice(0, -1), base.slice('.wh.'.length)].join('/');
    const path = this.checked(deleted);
    this.lastFile = undefined;
    if (!path.startsWith('Files/') && !path.startsWith('UtilityVM/Files/')) reject(name, 'whiteout outside Files/ or UtilityVM/Files/');
    return path;
  }

  private checked(name: string): string {
    if (name.includes(':')) reject(name, "':' outside an alternate data stream");
    const parts = layerPathComponents(name);
    layerSection(parts, name);
    for (let i = 1; i < parts.length; i++) {
      if (this.reparsePoints.has(key(parts.slice(0, i).join('/')))) reject(name, 'it goes through a reparse point declared earlier in the layer');
    }
    return parts.join('/');
  }
}
