// The windowsfilter Snapshotter: each layer imported once into its own folder with vmcompute, each
// container a scratch layer (sandbox.vhdx) over its image's chain (Docker's windowsfilter driver and
// containerd's windows snapshotter; hcs.md §2.2, §5).
//
//   layersDir/<chainID hex>/              the layer folder Windows owns (Files, Hives, UtilityVM, *.vhdx)
//   layersDir/<chainID hex>/silo-layer.json   { chainID, parent, size }, written last: the commit
//   snapshotsDir/<key>/                   the scratch (sandbox.vhdx, layerchain.json)
//   snapshotsDir/<key>/silo-snapshot.json { key, parent }
//   tmpDir/                               transport folders of imports and exports in flight
//
// A layer folder cannot be imported elsewhere and renamed into place: its id is NameToGuid(folder
// name) and base-layer processing records paths inside it. So the folder is made under its final
// name and committed by its record, the way containerd commits Windows snapshots in metadata; a
// folder without a record is an interrupted import, destroyed before the next try and never listed.
// Layers are removed with DestroyLayer (Windows' files need its privileges).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PassThrough, type Readable } from 'node:stream';
import { SiloError, alreadyExists, failedPrecondition, invalidArgument, notFound } from '../../../errors';
import { comparePaths, type Change } from '../../../layers/changes';
import type { ExtractLimits } from '../../../layers/extract';
import type { Mount, Snapshotter } from '../../../layers/snapshotter';
import { readTransportFolder, readWindowsLayerTar, WindowsLayerTarWriter, type LayerEntry } from '../layerTar';
import { windowsLayerMount } from '../windowsLayerMount';
import { readAhead, newTimings, type LayerImportResult } from './importPipeline';
import { importBaseLayer, importDeltaLayer } from './importLayer';
import type { VmcomputeLayers } from './layerApi';
import type { LayerFileWriter } from './layerFiles';
import { chainHex, checkKey, SNAPSHOT_KEY } from '../../../layers/snapshotKeys';
import { writeFileAtomicSync } from '../../../store/atomic';
import { knownAncestry, layerChain } from '../../../layers/layerChain';

interface LayerRecord { chainID: string; parent?: string; size: number }
interface SnapshotRecord { key: string; parent: string }

const LAYER_RECORD = 'silo-layer.json';
const SNAPSHOT_RECORD = 'silo-snapshot.json';

/** A reader sees the old record or the new one (store/atomic.ts). */
function writeRecord(file: string, value: unknown): void {
  writeFileAtomicSync(file, JSON.stringify(value) + '\n');
}

function readRecord<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SiloError('Internal', `cannot read ${file}: ${(err as Error).message}`, 'the store is damaged; remove the image and pull it again');
  }
}

export interface WindowsFilterOptions {
  layersDir: string;
  snapshotsDir: string;
  tmpDir: string;
  layers: VmcomputeLayers;
  files: LayerFileWriter;
}

export class WindowsFilterSnapshotter implements Snapshotter {
  readonly name = 'windowsfilter';
  /** One import per chain ID at a time in this engine (the engine is the store's only writer). */
  private readonly importing = new Map<string, Promise<LayerImportResult>>();

  constructor(private readonly opts: WindowsFilterOptions) {}

  private layerDir(chainID: string): string {
    return path.join(this.opts.layersDir, chainHex(chainID));
  }

  private layerRecord(chainID: string): LayerRecord | undefined {
    return readRecord<LayerRecord>(path.join(this.layerDir(chainID), LAYER_RECORD));
  }

  /** The layer folders of a chain, immediate parent first, base last (PrepareLayer's order). */
  private chain(top: string): string[] {
    return layerChain(top, (id) => this.layerRecord(id)).map((id) => this.layerDir(id));
  }

  private tempPath(what: string): string {
    fs.mkdirSync(this.opts.tmpDir, { recursive: true });
    return path.join(this.opts.tmpDir, `${what}-${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  /** Destroys a layer or scratch folder Windows made, then whatever Silo left in it. */
  private async destroyFolder(dir: string): Promise<void> {
    if (!fs.existsSync(dir)) return;
    await this.opts.layers.destroy(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }

  applyLayer(chainID: string, parent: string | undefined, tar: Readable, limits?: ExtractLimits): Promise<LayerImportResult> {
    const running = this.importing.get(chainID);
    if (running) {
      tar.destroy();
      return running;
    }
    const p = this.importLayer(chainID, parent, tar, limits).finally(() => this.importing.delete(chainID));
    this.importing.set(chainID, p);
    return p;
  }

  private async importLayer(chainID: string, parent: string | undefined, tar: Readable, limits?: ExtractLimits): Promise<LayerImportResult> {
    const t0 = performance.now();
    const timings = newTimings();
    const dir = this.layerDir(chainID);
    const existing = this.layerRecord(chainID);
    if (existing) {
      tar.destroy();
      return { size: existing.size, timings };
    }
    let parents: string[] = [];
    try {
      if (parent !== undefined) parents = this.chain(parent);
    } catch (err) {
      tar.destroy();
      throw err instanceof SiloError && err.kind === 'NotFound'
        ? failedPrecondition(`parent layer ${parent} of ${chainID} is not unpacked`, 'unpack the layers of an image from the bottom up')
        : err;
    }
    fs.mkdirSync(this.opts.layersDir, { recursive: true });
    await this.destroyFolder(dir); // an interrupted import of this layer
    const transport = parent === undefined ? undefined : this.tempPath('import');
    const read = readAhead(readWindowsLayerTar(tar), timings, limits);
    try {
      if (transport === undefined) {
        fs.mkdirSync(dir);
        await importBaseLayer(dir, read.entries, this.opts.files, this.opts.layers, timings);
      } else {
        await importDeltaLayer(dir, transport, parents, read.entries, this.opts.files, this.opts.layers, timings);
      }
      const record: LayerRecord = { chainID, ...(parent !== undefined ? { parent } : {}), size: read.bytes() };
      writeRecord(path.join(dir, LAYER_RECORD), record);
    } catch (err) {
      tar.destroy();
      if (transport) fs.rmSync(transport, { recursive: true, force: true });
      await this.destroyFolder(dir).catch(() => fs.rmSync(dir, { recursive: true, force: true }));
      throw err;
    }
    timings.totalMs = performance.now() - t0;
    return { size: read.bytes(), timings };
  }

  async hasLayer(chainID: string): Promise<boolean> {
    return this.layerRecord(chainID) !== undefined;
  }

  async removeLayer(chainID: string): Promise<void> {
    if (!this.layerRecord(chainID)) return;
    const { layers, snapshots } = await this.list();
    for (const id of layers) {
      if (this.layerRecord(id)?.parent === chainID) throw failedPrecondition(`layer ${chainID} is the parent of layer ${id}`, 'remove the images built on it first');
    }
    for (const key of snapshots) {
      const rec = readRecord<SnapshotRecord>(path.join(this.opts.snapshotsDir, key, SNAPSHOT_RECORD));
      if (rec && knownAncestry(rec.parent, (id) => this.layerRecord(id)).includes(chainID)) throw failedPrecondition(`layer ${chainID} is in use by container snapshot ${key}`, 'remove the container first');
    }
    const dir = this.layerDir(chainID);
    // The record goes first: from here on the layer is an interrupted import, never half visible.
    fs.rmSync(path.join(dir, LAYER_RECORD), { force: true });
    await this.destroyFolder(dir);
  }

  async prepare(key: string, parent: string | undefined): Promise<Mount[]> {
    checkKey(key);
    if (parent === undefined) throw invalidArgument('A Windows container needs an image with a base layer', 'build FROM a Windows base image such as mcr.microsoft.com/windows/nanoserver');
    const dir = path.join(this.opts.snapshotsDir, key);
    if (fs.existsSync(path.join(dir, SNAPSHOT_RECORD))) throw alreadyExists(`snapshot ${key} already exists`, 'remove it first');
    const parents = this.chain(parent);
    fs.mkdirSync(this.opts.snapshotsDir, { recursive: true });
    await this.destroyFolder(dir); // an interrupted prepare
    try {
      await this.opts.layers.createSandbox(dir, parents);
      // Docker's windowsfilter keeps the chain beside the scratch; Windows itself does not read it.
      writeRecord(path.join(dir, 'layerchain.json'), parents);
      writeRecord(path.join(dir, SNAPSHOT_RECORD), { key, parent } satisfies SnapshotRecord);
    } catch (err) {
      await this.destroyFolder(dir).catch(() => undefined);
      throw err;
    }
    return [windowsLayerMount({ scratchPath: dir, parentLayerPaths: parents })];
  }

  private snapshot(key: string): { dir: string; record: SnapshotRecord } {
    checkKey(key);
    const dir = path.join(this.opts.snapshotsDir, key);
    const record = readRecord<SnapshotRecord>(path.join(dir, SNAPSHOT_RECORD));
    if (!record) throw notFound(`snapshot ${key} does not exist`);
    return { dir, record };
  }

  async mounts(key: string): Promise<Mount[]> {
    const { dir, record } = this.snapshot(key);
    return [windowsLayerMount({ scratchPath: dir, parentLayerPaths: this.chain(record.parent) })];
  }

  /**
   * ExportLayer of the scratch into a transport folder, as hcsshim ExportLayerToTar does it:
   * Activate, Prepare (so the scratch is initialised), Unprepare, Export, Deactivate. The scratch must
   * not be mounted: Windows cannot export a running container's layer (moby: "windows does not
   * support commit of a running container").
   */
  private async exportScratch(key: string): Promise<string> {
    const { dir, record } = this.snapshot(key);
    const parents = this.chain(record.parent);
    const out = this.tempPath('export');
    const l = this.opts.layers;
    await l.activate(dir);
    try {
      await l.prepare(dir, parents);
      await l.unprepare(dir);
      await l.exportLayer(dir, out, parents);
    } catch (err) {
      fs.rmSync(out, { recursive: true, force: true });
      throw err;
    } finally {
      await l.deactivate(dir);
    }
    return out;
  }

  /** Windows cannot tell an added file from a changed one: every entry is 'C', deletions 'D' (moby windows.go Changes). */
  async changes(key: string): Promise<Change[]> {
    const folder = await this.exportScratch(key);
    try {
      const out: Change[] = [];
      for await (const e of readTransportFolder(folder)) {
        const change = containerChange(e);
        if (change) out.push(change);
      }
      return out.sort((a, b) => comparePaths(a.path, b.path));
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  }

  exportChanges(key: string): Readable {
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    (async () => {
      const folder = await this.exportScratch(key);
      try {
        const writer = new WindowsLayerTarWriter();
        writer.stream.on('error', (err) => out.destroy(err));
        writer.stream.pipe(out);
        for await (const e of readTransportFolder(folder)) await writer.add(e);
        writer.finalize();
        await new Promise<void>((resolve, reject) => {
          out.once('finish', resolve);
          out.once('close', resolve);
          out.once('error', reject);
        });
      } finally {
        fs.rmSync(folder, { recursive: true, force: true });
      }
    })().catch((err) => out.destroy(err));
    return out;
  }

  async remove(key: string): Promise<void> {
    const { dir } = this.snapshot(key);
    fs.rmSync(path.join(dir, SNAPSHOT_RECORD), { force: true });
    await this.destroyFolder(dir);
  }

  async list(): Promise<{ layers: string[]; snapshots: string[] }> {
    const names = (dir: string) => {
      try { return fs.readdirSync(dir).sort(); } catch { return []; }
    };
    const layers = names(this.opts.layersDir)
      .filter((n) => /^[0-9a-f]{64}$/.test(n) && fs.existsSync(path.join(this.opts.layersDir, n, LAYER_RECORD)))
      .map((n) => `sha256:${n}`);
    const snapshots = names(this.opts.snapshotsDir).filter((n) => SNAPSHOT_KEY.test(n) && fs.existsSync(path.join(this.opts.snapshotsDir, n, SNAPSHOT_RECORD)));
    return { layers, snapshots };
  }
}

/** A transport-folder entry as a line of `docker diff`: the container's C:\ view, '/'-separated. */
function containerChange(e: LayerEntry): Change | undefined {
  if (!e.path.startsWith('Files/') || e.type === 'alternateStream') return undefined;
  const p = '/' + e.path.slice('Files/'.length);
  return { kind: e.type === 'whiteout' ? 'D' : 'C', path: p };
}
