// vmcompute's layer functions as calls that throw HcsError (hcs.md §2.2): the identity convention of
// current hcsshim (DriverInfo { Flavour: filter, HomeDir: '' } and the full layer folder as id) and
// parent lists as WC_LAYER_DESCRIPTOR[], immediate parent first, base last (hcsshim issue #278).
// The long calls (import, export, base image processing, sandbox creation, destroy) run on the libuv
// pool so the engine keeps answering while Windows works.
import * as path from 'node:path';
import { callAsync } from '../hcs/api';
import { failed, hcsError } from '../hresult';
import { FILTER_DRIVER, guidFromString, guidToString, loadVmcompute, type Vmcompute } from '../bindings/vmcompute';
import type { NativeFunction } from '../bindings/types';

const driver = { Flavour: FILTER_DRIVER, HomeDir: '' };

/** The base name of a layer folder on either kind of path (NameToGuid hashes only the name). */
const baseName = (p: string) => (p.includes('\\') ? path.win32.basename(p) : path.basename(p));

export class VmcomputeLayers {
  private vm: Vmcompute | undefined;
  private readonly ids = new Map<string, string>();

  constructor(private readonly dllPath = 'vmcompute.dll') {}

  private get api(): Vmcompute {
    return (this.vm ??= loadVmcompute(this.dllPath));
  }

  private async call(op: string, fn: NativeFunction, ...args: unknown[]): Promise<void> {
    const hr = await callAsync<number>(fn, ...args);
    if (failed(hr)) throw hcsError(op, hr);
  }

  /** NameToGuid(base name of the folder): the id HCS knows the layer by. */
  layerId(layerPath: string): string {
    const name = baseName(layerPath);
    let id = this.ids.get(name);
    if (id === undefined) {
      const guid: Record<string, unknown> = {};
      const hr = this.api.NameToGuid(name, guid) as number;
      if (failed(hr)) throw hcsError(`compute the id of layer ${layerPath}`, hr);
      id = guidToString(guid as never);
      this.ids.set(name, id);
    }
    return id;
  }

  private descriptors(parents: string[]) {
    return parents.map((p) => ({ LayerId: guidFromString(this.layerId(p)), Flags: 0, Path: p }));
  }

  importLayer(layerPath: string, transportFolder: string, parents: string[]): Promise<void> {
    const d = this.descriptors(parents);
    return this.call(`import layer ${layerPath}`, this.api.ImportLayer, driver, layerPath, transportFolder, d, d.length);
  }

  exportLayer(layerPath: string, exportFolder: string, parents: string[]): Promise<void> {
    const d = this.descriptors(parents);
    return this.call(`export layer ${layerPath}`, this.api.ExportLayer, driver, layerPath, exportFolder, d, d.length);
  }

  processBaseImage(layerPath: string): Promise<void> {
    return this.call(`process base layer ${layerPath}`, this.api.ProcessBaseImage, layerPath);
  }

  processUtilityImage(utilityVmPath: string): Promise<void> {
    return this.call(`process the utility VM image ${utilityVmPath}`, this.api.ProcessUtilityImage, utilityVmPath);
  }

  createSandbox(scratchPath: string, parents: string[]): Promise<void> {
    const d = this.descriptors(parents);
    return this.call(`create the container layer ${scratchPath}`, this.api.CreateSandboxLayer, driver, scratchPath, null, d, d.length);
  }

  destroy(layerPath: string): Promise<void> {
    return this.call(`remove layer ${layerPath}`, this.api.DestroyLayer, driver, layerPath);
  }

  activate(layerPath: string): Promise<void> {
    return this.call(`activate layer ${layerPath}`, this.api.ActivateLayer, driver, layerPath);
  }

  deactivate(layerPath: string): Promise<void> {
    return this.call(`deactivate layer ${layerPath}`, this.api.DeactivateLayer, driver, layerPath);
  }

  prepare(layerPath: string, parents: string[]): Promise<void> {
    const d = this.descriptors(parents);
    return this.call(`prepare layer ${layerPath}`, this.api.PrepareLayer, driver, layerPath, d, d.length);
  }

  unprepare(layerPath: string): Promise<void> {
    return this.call(`unprepare layer ${layerPath}`, this.api.UnprepareLayer, driver, layerPath);
  }
}
