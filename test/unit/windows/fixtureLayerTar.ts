// Test fixture: a Windows layer tar in memory, written by the product's own WindowsLayerTarWriter.
import { WindowsLayerTarWriter, type LayerEntry } from '../../../engine/src/platform/windows/layerTar';

export async function windowsLayerTar(entries: LayerEntry[]): Promise<Buffer> {
  const w = new WindowsLayerTarWriter();
  const chunks: Buffer[] = [];
  w.stream.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((r) => w.stream.on('end', () => r()));
  for (const e of entries) await w.add(e);
  w.finalize();
  await ended;
  return Buffer.concat(chunks);
}
