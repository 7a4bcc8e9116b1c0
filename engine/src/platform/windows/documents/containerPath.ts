// Paths as a Windows container sees them. Users and images write `/data`, `C:/data` or `c:\data`;
// HCS wants `C:\data`. Named pipes (`\\.\pipe\name`) are mapped as pipes, not directories.
import { invalidArgument } from '../../../errors';

const PIPE_PREFIX = /^[\\/]{2}\.[\\/]pipe[\\/]/i;

export function isNamedPipePath(p: string): boolean {
  return PIPE_PREFIX.test(p);
}

/** The pipe name after `\\.\pipe\`. */
export function pipeName(p: string): string {
  return p.replace(PIPE_PREFIX, '');
}

/** An absolute container path in HCS form: drive letter, backslashes, no `.` or `..` components. */
export function windowsContainerPath(p: string, what = 'container path'): string {
  let s = p.replace(/\//g, '\\');
  if (s.startsWith('\\') && !s.startsWith('\\\\')) s = 'C:' + s;
  const m = /^([A-Za-z]):(\\.*)?$/.exec(s);
  if (!m) throw invalidArgument(`The ${what} ${JSON.stringify(p)} is not an absolute Windows path`, 'write it as C:\\dir or /dir');
  const parts = (m[2] ?? '\\').split('\\').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) throw invalidArgument(`The ${what} ${JSON.stringify(p)} contains '..'`, 'use a path without ..');
  if (parts.some((c) => /[<>:"|?*\x00-\x1f]/.test(c))) {
    throw invalidArgument(`The ${what} ${JSON.stringify(p)} has a character Windows does not allow in a path`, 'rename it');
  }
  return `${m[1].toUpperCase()}:\\${parts.join('\\')}`;
}
