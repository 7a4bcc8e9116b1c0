// The one place that picks the host's platform; nothing above platform/ imports a platform folder.
import { notImplemented } from '../errors';
import type { Platform } from '../service/engine';

export function hostPlatform(root: string): Platform {
  if (process.platform === 'linux') return require('./linux').linuxPlatform(root) as Platform;
  if (process.platform === 'win32') return require('./windows').windowsPlatform(root) as Platform;
  throw notImplemented(`Silo's engine does not run on ${process.platform}`, 'use Linux, or Windows 10 1809 / Server 2019 or later');
}
