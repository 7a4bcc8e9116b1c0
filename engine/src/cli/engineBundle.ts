// The engine is a bundle of its own (dist/silo-engine.js), loaded only by `silo engine`: every other
// command is a thin client, and a client that does not parse the engine starts tens of ms sooner.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type * as Listen from '../rpc/listen';

export function loadEngine(): typeof Listen {
  const bundle = path.join(__dirname, 'silo-engine.js');
  // From sources (tests through tsx) there is no bundle; the module path is computed so esbuild does
  // not pull the engine into the CLI bundle.
  const target = existsSync(bundle) ? bundle : ['..', 'rpc', 'listen'].join('/');
  return require(target) as typeof Listen;
}
