// A Windows layer tar -> a windowsfilter layer folder, the two ways hcsshim does it
// (internal/wclayer/{baselayerwriter.go, legacy.go, importlayer.go}; hcs.md §5.2):
//   base layer   every entry written straight into the folder (BackupWrite), hard links directly,
//                reparse points last, directory times re-applied children first, then
//                ProcessBaseImage(folder) and, with a utility VM, ProcessUtilityImage(folder\UtilityVM).
//   delta layer  entries into a transport folder, ImportLayer(folder, transport, parents), then
//                hard links and whiteouts applied by Silo relative to the new folder (never handed to
//                ImportLayer as tombstones.txt: the CVE-2018-8115 fix, hcsshim v0.6.10).
// Whiteouts in a base layer and UtilityVM changes in a delta layer are refused.
import * as fs from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { invalidArgument, notImplemented } from '../../../errors';
import { writeTransportFolder, type LayerEntry } from '../layerTar';
import type { LayerImportTimings } from './importPipeline';
import type { CreatedEntry, LayerFileHandle, LayerFileWriter } from './layerFiles';
import type { VmcomputeLayers } from './layerApi';

const elapsed = (t0: number) => performance.now() - t0;

export async function importBaseLayer(folder: string, entries: AsyncIterable<LayerEntry>, files: LayerFileWriter, layers: VmcomputeLayers, timings: LayerImportTimings): Promise<void> {
  const t0 = performance.now();
  const reparsePoints: CreatedEntry[] = [];
  const directories: Array<Extract<LayerEntry, { type: 'directory' }>> = [];
  let open: { path: string; handle: LayerFileHandle } | undefined;
  let utilityVm = false;
  const close = async () => {
    const o = open;
    open = undefined;
    await o?.handle.close();
  };
  try {
    for await (const entry of entries) {
      if (entry.type !== 'alternateStream') await close();
      if (entry.path === 'UtilityVM/Files' || entry.path.startsWith('UtilityVM/Files/')) utilityVm = true;
      switch (entry.type) {
        case 'whiteout':
          throw invalidArgument(`The base layer deletes ${JSON.stringify(entry.path)}, and a base layer has nothing to delete`, 'the image is malformed; pull it from its publisher again');
        case 'hardLink':
          await files.link(folder, entry.target, folder, entry.path);
          break;
        case 'alternateStream': {
          const file = entry.path.slice(0, entry.path.indexOf(':'));
          if (!open || open.path !== file) throw invalidArgument(`The alternate data stream ${JSON.stringify(entry.path)} does not follow its file`, 'the layer is corrupt');
          await open.handle.alternateStream(entry.path.slice(file.length + 1), entry.size, entry.body);
          break;
        }
        case 'reparsePoint':
          reparsePoints.push(entry);
          break;
        case 'directory':
          directories.push(entry);
          open = { path: entry.path, handle: await files.create(folder, entry) };
          break;
        case 'file':
          open = { path: entry.path, handle: await files.create(folder, entry) };
          break;
      }
    }
    await close();
  } finally {
    await close().catch(() => undefined);
  }
  // Last, so no entry of this tar was written through a link it made (hcs.md §5.5).
  for (const rp of reparsePoints) await (await files.create(folder, rp)).close();
  for (const d of directories.reverse()) await files.setDirectoryTimes(folder, d);
  timings.writeMs += elapsed(t0) - timings.stalledMs;

  const t1 = performance.now();
  await layers.processBaseImage(folder);
  if (utilityVm) await layers.processUtilityImage(joinLayerPath(folder, 'UtilityVM'));
  timings.processMs += elapsed(t1);
}

export async function importDeltaLayer(
  folder: string,
  transport: string,
  parents: string[],
  entries: AsyncIterable<LayerEntry>,
  files: LayerFileWriter,
  layers: VmcomputeLayers,
  timings: LayerImportTimings,
): Promise<void> {
  const t0 = performance.now();
  const added = new Set<string>();
  async function* noted() {
    for await (const e of entries) {
      if (e.type === 'file' || e.type === 'directory' || e.type === 'reparsePoint') added.add(e.path.toLowerCase());
      yield e;
    }
  }
  const pending = await writeTransportFolder(transport, noted(), {
    utilityVm: async () => {
      // hcsshim first clones the parent's UtilityVM\Files into the new layer; Silo does not (yet).
      throw notImplemented('This layer changes the Hyper-V utility VM image, which Silo cannot import yet', 'use an image whose layers above the base do not touch UtilityVM');
    },
  });
  timings.writeMs += elapsed(t0) - timings.stalledMs;

  const t1 = performance.now();
  await layers.importLayer(folder, transport, parents);
  // The order of hcsshim's legacyLayerWriter.Close: whiteouts, then hard links.
  // Whiteouts: removed from the new layer; "not found" is fine (hcsshim commit a0adf94c).
  for (const t of pending.tombstones) await files.remove(folder, t);
  // Hard links: to a file of this layer, or to the first parent that has the target (hcsshim AddLink).
  for (const l of pending.hardLinks) {
    let targetRoot: string | undefined;
    if (added.has(l.target.toLowerCase())) targetRoot = folder;
    else for (const p of parents) if (await files.exists(p, l.target)) { targetRoot = p; break; }
    if (targetRoot === undefined) throw invalidArgument(`The hard link ${JSON.stringify(l.path)} points to ${JSON.stringify(l.target)}, which no layer has`, 'the layer is corrupt');
    await files.link(targetRoot, l.target, folder, l.path);
  }
  timings.importMs += elapsed(t1);
  await fs.rm(transport, { recursive: true, force: true });
}

/** `folder` + a layer-relative path, with the separator of the folder's own path. */
export function joinLayerPath(folder: string, rel: string): string {
  const sep = folder.includes('\\') ? '\\' : '/';
  return folder.replace(/[\\/]+$/, '') + sep + rel.split('/').join(sep);
}
