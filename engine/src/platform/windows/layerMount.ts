// Turning a windows-layer mount into what HCS needs, with vmcompute (hcs.md §2.2, the sequence Docker
// and containerd ship): layer GUIDs by NameToGuid, and for process isolation the scratch activated,
// prepared over its parents (immediate parent first) and its volume path read with GetLayerMountPath.
// Hyper-V isolation mounts nothing on the host: HCS attaches sandbox.vhdx inside the utility VM.
import * as path from 'node:path';
import { failed, hcsError, isRetryableLayerError } from './hresult';
import { FILTER_DRIVER, guidFromString, guidToString, loadVmcompute, type Vmcompute } from './bindings/vmcompute';
import type { WindowsLayerChain } from './windowsLayerMount';

export interface WindowsLayerMounter {
  /** NameToGuid(base name of the layer folder), as HCS expects in Storage.Layers / Layers. */
  layerId(layerPath: string): Promise<string>;
  /** Activates and prepares the scratch; returns its volume path (\\?\Volume{GUID}\). */
  mount(chain: WindowsLayerChain): Promise<string>;
  unmount(chain: WindowsLayerChain): Promise<void>;
}

const driver = { Flavour: FILTER_DRIVER, HomeDir: '' };

export class VmcomputeLayerMounter implements WindowsLayerMounter {
  private vm: Vmcompute | undefined;
  /** hcsshim serialises PrepareLayer ("temporary workaround for a Windows bug"). */
  private prepareQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dllPath = 'vmcompute.dll') {}

  private get api(): Vmcompute {
    return (this.vm ??= loadVmcompute(this.dllPath));
  }

  async layerId(layerPath: string): Promise<string> {
    const guid: Record<string, unknown> = {};
    const hr = this.api.NameToGuid(path.win32.basename(layerPath), guid) as number;
    if (failed(hr)) throw hcsError(`compute the id of layer ${layerPath}`, hr);
    return guidToString(guid as never);
  }

  private async descriptors(parents: string[]) {
    return Promise.all(parents.map(async (p) => {
      return { LayerId: guidFromString(await this.layerId(p)), Flags: 0, Path: p };
    }));
  }

  async mount(chain: WindowsLayerChain): Promise<string> {
    const layers = await this.descriptors(chain.parentLayerPaths);
    for (let attempt = 1; ; attempt++) {
      let hr = this.api.ActivateLayer(driver, chain.scratchPath) as number;
      if (!failed(hr)) {
        const prepared = this.prepareQueue.then(() => this.api.PrepareLayer(driver, chain.scratchPath, layers, layers.length) as number);
        this.prepareQueue = prepared.catch(() => undefined);
        hr = await prepared;
        if (failed(hr)) this.api.DeactivateLayer(driver, chain.scratchPath);
      }
      if (!failed(hr)) break;
      // hcsshim retries up to 5 times on ERROR_NOT_READY / ERROR_DEVICE_NOT_CONNECTED (RS5 under load).
      if (!isRetryableLayerError(hr) || attempt >= 5) throw hcsError(`mount the container layer ${chain.scratchPath}`, hr);
      await new Promise((r) => setTimeout(r, 100));
    }
    const length = [0];
    let hr = this.api.GetLayerMountPath(driver, chain.scratchPath, length, null) as number;
    if (failed(hr)) throw hcsError(`read the mount path of ${chain.scratchPath}`, hr);
    const buf = Buffer.alloc(Number(length[0]) * 2 + 2);
    hr = this.api.GetLayerMountPath(driver, chain.scratchPath, length, buf) as number;
    if (failed(hr)) throw hcsError(`read the mount path of ${chain.scratchPath}`, hr);
    return buf.toString('utf16le').replace(/\0.*$/s, '');
  }

  async unmount(chain: WindowsLayerChain): Promise<void> {
    let hr = this.api.UnprepareLayer(driver, chain.scratchPath) as number;
    if (failed(hr)) throw hcsError(`unmount the container layer ${chain.scratchPath}`, hr);
    hr = this.api.DeactivateLayer(driver, chain.scratchPath) as number;
    if (failed(hr)) throw hcsError(`deactivate the container layer ${chain.scratchPath}`, hr);
  }
}
