// A Windows layer tar -> a windowsfilter layer folder, the two ways hcsshim does it
// (internal/wclayer/{baselayerwriter.go, legacy.go, importlayer.go}; hcs.md §5.2):
//   base layer   every entry written straight into the folder (BackupWrite), hard links directly,
//                reparse points last, directory times re-applied children first, then
//                ProcessBaseImage(folder) and, with a utility VM, ProcessUtilityImage(folder\UtilityVM).
//   delta layer  entries into a transport folder, ImportLayer(folder, transport, parents), then
//                hard links and whiteouts applied by Silo relative to the new folder (never handed to
//                ImportLayer as tombstones.txt: the CVE-2018-8115 fix, hcsshim v0.6.10), folder times
//                re-applied, and for a layer that changes the utility VM (its parent's cloned into it
//                first) ProcessUtilityImage.
// Whiteouts in a base layer are refused.
import * as fs from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { invalidArgument } from '../../../errors';
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

/**
 * The utility VM files the import itself mutates (hcsshim legacy.go mutatedUtilityVMFiles): a clone
 * copies them instead of linking them, so ProcessUtilityImage never writes into a parent layer.
 * hcsshim matches these names against paths relative to the layer folder, which carry the
 * UtilityVM\Files\ prefix, so its clone links them after all; Silo matches what the list means.
 */
const MUTATED_UTILITY_VM_FILES = new Set(['efi/microsoft/boot/bcd', 'efi/microsoft/boot/bcd.log', 'efi/microsoft/boot/bcd.log1', 'efi/microsoft/boot/bcd.log2']);
const UVM_FILES = 'UtilityVM/Files';

const isUtilityVm = (p: string) => p === 'UtilityVM' || p.startsWith('UtilityVM/');

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
  /** Every folder of the layer, to re-apply its times once whiteouts and links have moved them. */
  const directories: Array<Extract<LayerEntry, { type: 'directory' }>> = [];
  const uvm = utilityVmWriter(folder, parents, files, directories);
  async function* noted() {
    for await (const e of entries) {
      if (e.type !== 'alternateStream') await uvm.closeOpen();
      if (e.type === 'file' || e.type === 'directory' || e.type === 'reparsePoint') added.add(e.path.toLowerCase());
      if (e.type === 'directory' && !isUtilityVm(e.path)) directories.push(e);
      yield e;
    }
    await uvm.closeOpen();
  }
  let pending;
  try {
    pending = await writeTransportFolder(transport, noted(), { utilityVm: (e) => uvm.write(e) });
  } finally {
    await uvm.closeOpen().catch(() => undefined);
  }
  timings.writeMs += elapsed(t0) - timings.stalledMs;

  const t1 = performance.now();
  await layers.importLayer(folder, transport, parents);
  // The order of hcsshim's legacyLayerWriterWrapper.Close: whiteouts, hard links, folder times, then
  // the utility VM. Whiteouts: removed from the new layer; "not found" is fine (hcsshim commit a0adf94c).
  for (const t of pending.tombstones) await files.remove(folder, t);
  // Hard links: to a file of this layer, or to the first parent that has the target (hcsshim AddLink);
  // in the utility VM always to this layer, which holds the whole cloned tree.
  for (const l of [...pending.hardLinks, ...uvm.links]) {
    let targetRoot: string | undefined;
    if (added.has(l.target.toLowerCase()) || isUtilityVm(l.target)) targetRoot = folder;
    else for (const p of parents) if (await files.exists(p, l.target)) { targetRoot = p; break; }
    if (targetRoot === undefined || !(await files.exists(targetRoot, l.target))) throw invalidArgument(`The hard link ${JSON.stringify(l.path)} points to ${JSON.stringify(l.target)}, which no layer has`, 'the layer is corrupt');
    await files.link(targetRoot, l.target, folder, l.path);
  }
  for (const d of [...directories].reverse()) if (await files.entryKind(folder, d.path) === 'directory') await files.setDirectoryTimes(folder, d);
  timings.importMs += elapsed(t1);
  await fs.rm(transport, { recursive: true, force: true });

  if (uvm.touched()) {
    const t2 = performance.now();
    if (await files.entryKind(folder, 'UtilityVM') !== 'directory') throw invalidArgument('The layer\'s UtilityVM is not a plain folder', 'the image is malformed or hostile; do not use it');
    await layers.processUtilityImage(joinLayerPath(folder, 'UtilityVM'));
    timings.processMs += elapsed(t2);
  }
}

/**
 * A delta layer's UtilityVM entries, written straight into the new layer folder as hcsshim's
 * legacyLayerWriter does: the first one clones the parent's utility VM into the layer with hard links
 * (Windows Server 2016 has no multi-layer utility VM), then each entry replaces what the clone put
 * there (a file is removed first, so a write never lands in a parent's file through a link), and a
 * whiteout removes at once from the clone (a missing target is an error here). The parent cloned is
 * the nearest one with a utility VM (hcsshim takes the immediate parent and fails without one;
 * uvmfolder.LocateUVMFolder, which picks the VM a container boots, searches like this).
 */
function utilityVmWriter(folder: string, parents: string[], files: LayerFileWriter, directories: Array<Extract<LayerEntry, { type: 'directory' }>>) {
  let started = false;
  let open: { path: string; handle: LayerFileHandle } | undefined;
  /** Hard links inside the utility VM, made after ImportLayer like the others. */
  const links: Array<{ path: string; target: string }> = [];

  const start = async () => {
    if (started) return;
    let source: string | undefined;
    for (const p of parents) if (await files.entryKind(p, UVM_FILES) === 'directory') { source = p; break; }
    if (source === undefined) throw invalidArgument('The layer changes the utility VM, but no layer below it has one', 'the image is malformed; pull it from its publisher again');
    await fs.mkdir(folder, { recursive: true });
    await files.makeDirectory(folder, 'UtilityVM');
    await files.cloneTree(source, folder, UVM_FILES, (p) => MUTATED_UTILITY_VM_FILES.has(p.slice(UVM_FILES.length + 1).toLowerCase()));
    started = true;
  };

  return {
    links,
    touched: () => started,
    async closeOpen() {
      const o = open;
      open = undefined;
      await o?.handle.close();
    },
    async write(entry: LayerEntry) {
      if (entry.path === 'UtilityVM') {
        if (entry.type !== 'directory') throw invalidArgument('The layer\'s UtilityVM entry is not a folder', 'the layer is corrupt');
        return start();
      }
      if (entry.type === 'whiteout') {
        await start();
        if (!(await files.remove(folder, entry.path))) throw invalidArgument(`The layer deletes ${JSON.stringify(entry.path)}, which its utility VM does not have`, 'the layer is corrupt');
        return;
      }
      if (!started) throw invalidArgument(`The layer entry ${JSON.stringify(entry.path)} comes before its UtilityVM folder`, 'the layer is corrupt');
      switch (entry.type) {
        case 'hardLink':
          links.push({ path: entry.path, target: entry.target });
          return;
        case 'alternateStream': {
          const file = entry.path.slice(0, entry.path.indexOf(':'));
          if (!open || open.path !== file) throw invalidArgument(`The alternate data stream ${JSON.stringify(entry.path)} does not follow its file`, 'the layer is corrupt');
          return open.handle.alternateStream(entry.path.slice(file.length + 1), entry.size, entry.body);
        }
        case 'directory': {
          const kind = await files.entryKind(folder, entry.path);
          if (kind !== undefined && kind !== 'directory') await files.remove(folder, entry.path);
          directories.push(entry);
          open = { path: entry.path, handle: await files.create(folder, entry) };
          return;
        }
        case 'file':
        case 'reparsePoint':
          // Replaces what the clone linked there: the parent's file must stay as it is.
          await files.remove(folder, entry.path);
          open = { path: entry.path, handle: await files.create(folder, entry) };
          return;
      }
    },
  };
}

/** `folder` + a layer-relative path, with the separator of the folder's own path. */
export function joinLayerPath(folder: string, rel: string): string {
  const sep = folder.includes('\\') ? '\\' : '/';
  return folder.replace(/[\\/]+$/, '') + sep + rel.split('/').join(sep);
}
