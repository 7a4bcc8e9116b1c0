// Container networking on the Host Compute Network (hcs.md §6): one NAT network owned by the engine,
// and per container an endpoint carrying its -p port mappings inside a network namespace that the
// container's ComputeSystem names (Container.Networking.Namespace, hcsshim createNetworkNamespace).
// Every call's error record (JSON, CoTaskMemFree) becomes the HcsError's detail. NAT networks made on
// Windows Server 2019 and later do not survive a reboot, so the network is looked up by name and
// re-created on first use after each engine start.
import { randomUUID } from 'node:crypto';
import { failed, hcsError } from '../hresult';
import { loadComputeNetwork, type ComputeNetwork } from '../bindings/computenetwork';
import { takeString } from '../bindings/kernel32';
import { loadOle32 } from '../bindings/ole32';
import { guidFromString } from '../bindings/vmcompute';
import type { NativeFunction } from '../bindings/types';
import type { PortMapping } from '../../../runtime/runtime';
import { endpointDocument, hcnQuery, namespaceDocument, namespaceEndpointRequest, natNetworkDocument } from '../documents/hcnNetwork';

export interface HcnApi {
  net: ComputeNetwork;
  free: (p: unknown) => unknown;
}

export function loadHcnApi(paths: { computenetwork?: string; ole32?: string } = {}): HcnApi {
  const net = loadComputeNetwork(paths.computenetwork);
  const ole = loadOle32(paths.ole32);
  return { net, free: (p) => ole.CoTaskMemFree(p) };
}

/** What a container's ComputeSystem needs, and what detach removes. */
export interface NetworkAttachment {
  namespaceId: string;
  endpointId: string;
  /** The address HNS assigned on the NAT network. */
  ipAddress?: string;
}

/** One network per engine: its endpoints, namespaces and -p mappings (small, as runtime/ needs it). */
export interface ContainerNetwork {
  attach(ports: PortMapping[]): Promise<NetworkAttachment>;
  detach(a: NetworkAttachment): Promise<void>;
}

export interface NatNetworkOptions {
  /** e.g. "silo-nat"; Docker's own is "nat". */
  name: string;
  /** An IPv4 prefix that does not overlap Docker's nat network, e.g. 172.30.0.0/16. */
  subnet: string;
}

const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

export class HcnNatNetwork implements ContainerNetwork {
  private networkId: string | undefined;

  constructor(private readonly api: () => HcnApi, private readonly opts: NatNetworkOptions) {}

  /** Calls an HCN function whose last argument is the error record; throws HcsError on failure. */
  private call(op: string, fn: NativeFunction, ...args: unknown[]): void {
    const err: unknown[] = [null];
    const hr = fn(...args, err) as number;
    const record = takeString(err[0], this.api().free);
    if (failed(hr)) throw hcsError(op, hr, record);
  }

  private output(op: string, fn: NativeFunction, ...args: unknown[]): string {
    const out: unknown[] = [null];
    this.call(op, fn, ...args, out);
    return takeString(out[0], this.api().free) ?? '';
  }

  /** The network's id: found by name, or created. */
  async ensure(): Promise<string> {
    if (this.networkId) return this.networkId;
    const { net } = this.api();
    const found = JSON.parse(this.output(`list the networks named ${this.opts.name}`, net.HcnEnumerateNetworks, JSON.stringify(hcnQuery({ Name: this.opts.name }))) || '[]') as unknown;
    if (Array.isArray(found) && typeof found[0] === 'string') {
      this.networkId = found[0].replace(/[{}]/g, '').toLowerCase();
      return this.networkId;
    }
    const id = randomUUID();
    const handle: unknown[] = [null];
    this.call(`create the ${this.opts.name} network`, net.HcnCreateNetwork, guidFromString(id), JSON.stringify(natNetworkDocument(this.opts.name, this.opts.subnet)), handle);
    net.HcnCloseNetwork(handle[0]);
    this.networkId = id;
    return id;
  }

  async attach(ports: PortMapping[]): Promise<NetworkAttachment> {
    const networkId = await this.ensure();
    const { net } = this.api();
    const document = JSON.stringify(endpointDocument(networkId, ports));
    const nh: unknown[] = [null];
    this.call(`open the ${this.opts.name} network`, net.HcnOpenNetwork, guidFromString(networkId), nh);
    let endpointId: string | undefined;
    let ipAddress: string | undefined;
    try {
      const eh: unknown[] = [null];
      // A zero id lets HNS choose; the real one is read back (hcsshim hcnendpoint.go createEndpoint).
      this.call('create the container network endpoint', net.HcnCreateEndpoint, nh[0], guidFromString(ZERO_GUID), document, eh);
      try {
        const props = JSON.parse(this.output('read the container network endpoint', net.HcnQueryEndpointProperties, eh[0], JSON.stringify(hcnQuery({}))) || '{}') as {
          ID?: string;
          IpConfigurations?: Array<{ IpAddress?: string }>;
        };
        endpointId = props.ID?.toLowerCase();
        ipAddress = props.IpConfigurations?.[0]?.IpAddress;
      } finally {
        net.HcnCloseEndpoint(eh[0]);
      }
      if (!endpointId) throw hcsError('read the container network endpoint', 0x80070490);
    } finally {
      net.HcnCloseNetwork(nh[0]);
    }
    const namespaceId = randomUUID();
    try {
      const sh: unknown[] = [null];
      this.call('create the container network namespace', net.HcnCreateNamespace, guidFromString(namespaceId), JSON.stringify(namespaceDocument()), sh);
      try {
        this.call('add the endpoint to the container network namespace', net.HcnModifyNamespace, sh[0], JSON.stringify(namespaceEndpointRequest(endpointId)));
      } finally {
        net.HcnCloseNamespace(sh[0]);
      }
    } catch (err) {
      await this.detach({ namespaceId, endpointId, ipAddress }).catch(() => undefined);
      throw err;
    }
    return { namespaceId, endpointId, ...(ipAddress ? { ipAddress } : {}) };
  }

  /** Deletes the namespace and the endpoint (its port mappings go with it); already gone is fine. */
  async detach(a: NetworkAttachment): Promise<void> {
    const { net } = this.api();
    const errors: unknown[] = [];
    for (const [what, fn, id] of [['namespace', net.HcnDeleteNamespace, a.namespaceId], ['endpoint', net.HcnDeleteEndpoint, a.endpointId]] as const) {
      try {
        this.call(`remove the container network ${what}`, fn, guidFromString(id));
      } catch (err) {
        if ((err as { kind?: string }).kind !== 'NotFound') errors.push(err);
      }
    }
    if (errors.length) throw errors[0];
  }
}
