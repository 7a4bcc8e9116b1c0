// The classic builder's Windows rules (moby daemon/builder/dockerfile: dispatchers.go, copy_windows.go
// normalizeDest, builder_windows.go defaultShellForOS), checked on any host so a Windows Dockerfile
// fails the same way everywhere.
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
