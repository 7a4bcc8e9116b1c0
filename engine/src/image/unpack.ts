// Layer blobs from the ContentStore into the Snapshotter: decompress, then applyLayer keyed by chain
// ID, bottom layer first, skipping layers already unpacked. The diff IDs must already be verified (an
// archive read or an import computed them from these very blobs): applyLayer publishes what it unpacks.
import type { Readable } from 'node:stream';
import { decompressStream } from '../layers/compression';
import type { Snapshotter } from '../layers/snapshotter';
import type { ContentStore } from '../store/content';
import type { LayerRecord } from './store';
import type { Descriptor } from './types';

/** The uncompressed tar of a layer blob; the compression is told by magic bytes (layers/compression.ts). */
export async function openLayerTar(content: ContentStore, blob: Descriptor): Promise<Readable> {
  await content.info(blob.digest);
  return decompressStream(content.createReadStream(blob.digest));
}

/** Unpacks every layer not yet present; returns the layers with their unpacked sizes filled in. */
export async function unpackLayers(
  content: ContentStore,
  snapshotter: Snapshotter,
  layers: readonly LayerRecord[],
  onLayer?: (index: number, layer: LayerRecord) => void,
): Promise<LayerRecord[]> {
  const out: LayerRecord[] = [];
  for (const [i, layer] of layers.entries()) {
    onLayer?.(i, layer);
    if (await snapshotter.hasLayer(layer.chainID)) {
      out.push(layer);
      continue;
    }
    const tar = await openLayerTar(content, layer.blob);
    const { size } = await snapshotter.applyLayer(layer.chainID, i === 0 ? undefined : layers[i - 1].chainID, tar);
    out.push({ ...layer, size });
  }
  return out;
}
