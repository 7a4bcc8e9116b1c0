// The names snapshotters accept: chain IDs (sha256 digests, stored by their hex) and snapshot keys
// (container IDs and build step names). Shared by every platform's Snapshotter so both refuse the same.
import { invalidArgument } from '../errors';

const CHAIN_ID = /^sha256:([0-9a-f]{64})$/;
export const SNAPSHOT_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The hex of a chain ID: the name of its layer directory. */
export function chainHex(chainID: string): string {
  const m = CHAIN_ID.exec(chainID);
  if (!m) throw invalidArgument(`chain ID ${JSON.stringify(chainID)} is not a sha256 digest`);
  return m[1];
}

export function checkKey(key: string): void {
  if (!SNAPSHOT_KEY.test(key)) throw invalidArgument(`snapshot key ${JSON.stringify(key)} is not a valid name`, 'use letters, digits, "_", "." and "-"');
}
