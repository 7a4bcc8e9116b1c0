// The one place that picks the host's platform; nothing above platform/ imports a platform folder.
import { notImplemented } from '../errors';
import type { Platform } from '../service/engine';

export function hostPlatform(root: string): Platform {
  if (process.platform === 'linux') return require('./linux').linuxPlatform(root) as Platform;
  throw notImplemented(`Silo's engine does not run on ${process.platform} yet`, 'use Linux; the Windows (HCS) platform is in progress');
}
