// Which data root (and so which engine) this window talks to: the `silo.dataRoot` setting, else the
// engine's own default (SILO_ROOT, /var/lib/silo as root, $XDG_DATA_HOME/silo otherwise).
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultDataRoot } from '../../../engine/src/rpc/connect';

export function resolveDataRoot(setting: string | undefined, env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  const v = (setting ?? '').trim();
  if (!v) return defaultDataRoot(env);
  const expanded = v === '~' ? home : v.startsWith('~/') ? path.join(home, v.slice(2)) : v;
  return path.resolve(expanded);
}
