// Chain IDs identify a layer together with everything under it (OCI image-spec config.md
// "Layer ChainID"): ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
import { invalidArgument } from '../errors';
import { isSha256Digest, sha256Digest } from './digest';

/** The chain ID of each prefix of diffIDs: result[i] names layers 0..i. */
export function chainIDs(diffIDs: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIDs) {
    if (!isSha256Digest(d)) throw invalidArgument(`invalid diff ID "${d}"`);
    out.push(out.length === 0 ? d : sha256Digest(`${out[out.length - 1]} ${d}`));
  }
  return out;
}

/** The chain ID of the whole stack; undefined for no layers. */
export function chainID(diffIDs: readonly string[]): string | undefined {
  const all = chainIDs(diffIDs);
  return all[all.length - 1];
}
