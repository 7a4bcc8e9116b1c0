// Walking a layer chain by the parent each layer's record names: shared by every platform's
// Snapshotter, so both refuse a damaged chain the same way.
import { notFound, SiloError } from '../errors';

/** Reads the record of a layer by chain ID; undefined when the layer is not in the store. */
export type ParentOf = (chainID: string) => { parent?: string } | undefined;

/** The chain from `top` to its base layer, top first; a missing layer or a cycle is an error. */
export function layerChain(top: string | undefined, recordOf: ParentOf): string[] {
  const ids: string[] = [];
  for (let id = top; id !== undefined;) {
    if (ids.includes(id)) throw new SiloError('Internal', `layer ${id} is its own ancestor`, 'the store is damaged; remove the image and pull it again');
    const rec = recordOf(id);
    if (!rec) throw notFound(`layer ${id} is not unpacked`, 'pull the image again');
    ids.push(id);
    id = rec.parent;
  }
  return ids;
}

/** As much of the chain from `top` as the store holds, top first: stops at a missing layer or a cycle. */
export function knownAncestry(top: string, recordOf: ParentOf): string[] {
  const ids: string[] = [];
  for (let id: string | undefined = top; id !== undefined && !ids.includes(id); id = recordOf(id)?.parent) ids.push(id);
  return ids;
}
