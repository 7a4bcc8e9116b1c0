// The classic builder's Windows rules (moby daemon/builder/dockerfile: dispatchers.go, copy_windows.go
// normalizeDest, builder_windows.go defaultShellForOS), checked on any host so a Windows Dockerfile
// fails the same way everywhere.
import * as path from 'node:path';
import { invalidArgument } from '../errors';

export const WINDOWS_NO_SCRATCH = 'Windows does not support FROM scratch';

/** `cmd /S /C` on Windows, `/bin/sh -c` elsewhere. */
export function defaultShell(os: string): string[] {
  return os === 'windows' ? ['cmd', '/S', '/C'] : ['/bin/sh', '-c'];
}

/** A COPY/ADD destination on a Windows image: on C:, relative ones under a WORKDIR on C:. */
export function checkWindowsDest(dest: string, workdir: string | undefined): string {
  const d = dest.replace(/\//g, '\\');
  const drive = /^([A-Za-z]):/.exec(d);
  if (drive) {
    if (drive[1].toUpperCase() !== 'C') throw invalidArgument(`Windows does not support ${dest} as a destination: it is not on the system drive (C:)`, 'copy to a path on C:');
    return d;
  }
  if (d.startsWith('\\')) return `C:${d}`;
  const wd = (workdir || 'C:\\').replace(/\//g, '\\');
  const wdDrive = /^([A-Za-z]):/.exec(wd);
  if (wdDrive && wdDrive[1].toUpperCase() !== 'C') throw invalidArgument(`Windows does not support relative destination ${dest} when WORKDIR is not on the system drive (C:)`, 'give an absolute destination on C:');
  return `${wd.replace(/\\$/, '')}\\${d}`;
}

/**
 * WORKDIR on a Windows image, always `C:\...` (moby builder/dockerfile dispatchers_windows.go
 * normalizeWorkdirWindows): `a` -> C:\a, `\foo` and `/foo` -> C:\foo, `c:/foo` -> C:\foo, and a
 * relative path joins the current WORKDIR.
 */
export function windowsWorkdir(current: string | undefined, requested: string): string {
  const clean = (p: string) => {
    const n = path.win32.normalize(p.replace(/\//g, '\\'));
    return n.length > 3 || !/^[A-Za-z]:\\$/.test(n) ? n.replace(/\\+$/, '') || '\\' : n;
  };
  if (!requested) throw invalidArgument('WORKDIR requires a path');
  const cur = current ? clean(current) : '';
  let req = clean(requested);
  // `C:` alone means "the current directory of drive C:", which a container has no notion of.
  for (const [p, given] of [[cur, current ?? ''], [req, requested]] as const) {
    if (/^[A-Za-z]:\.?$/.test(p)) throw invalidArgument(`WORKDIR ${given} is not supported`, 'give a full path such as C:\\app');
  }
  const isAbs = req.startsWith('\\') || /^[A-Za-z]:\\/.test(req);
  if (!cur || isAbs) {
    if (req.startsWith('\\') || (req.length > 1 && req[1] !== ':') || req.length === 1) req = path.win32.join('C:\\', req);
  } else req = path.win32.join(cur, req);
  return req[0].toUpperCase() + req.slice(1);
}
