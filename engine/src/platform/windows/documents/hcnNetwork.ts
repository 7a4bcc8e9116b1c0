// Host Compute Network documents (computenetwork.dll, HNS schema 2.0; vdocs hcn/HNS_Schema.md,
// hcsshim hcn/*.go): the engine's NAT network, an endpoint carrying -p port mappings, a namespace,
// and adding the endpoint to it. A v2 container names the namespace; a v1 (Hyper-V) one the endpoint.
import type { PortMapping } from '../../../runtime/runtime';
import { invalidArgument } from '../../../errors';

export const HCN_SCHEMA = { Major: 2, Minor: 0 } as const;

export interface HostComputeNetwork {
  Name: string;
  Type: 'NAT';
  SchemaVersion: typeof HCN_SCHEMA;
  Ipams: Array<{ Type: 'Static'; Subnets: Array<{ IpAddressPrefix: string; Routes: Array<{ NextHop: string; DestinationPrefix: string }> }> }>;
}

/** A NAT network on `subnet` (a /N of IPv4), gateway at its first address. Not persisted across reboot on WS2019+. */
export function natNetworkDocument(name: string, subnet: string): HostComputeNetwork {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(subnet);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const bits = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || bits < 8 || bits > 30) {
    throw invalidArgument(`The NAT subnet ${JSON.stringify(subnet)} is not an IPv4 prefix between /8 and /30`, 'use a prefix such as 172.30.0.0/16');
  }
  const addr = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const net = (addr & mask) >>> 0;
  const gw = net + 1;
  const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  return {
    Name: name,
    Type: 'NAT',
    SchemaVersion: HCN_SCHEMA,
    Ipams: [{ Type: 'Static', Subnets: [{ IpAddressPrefix: `${dotted(net)}/${bits}`, Routes: [{ NextHop: dotted(gw), DestinationPrefix: '0.0.0.0/0' }] }] }],
  };
}

export interface PortMappingPolicy {
  Type: 'PortMapping';
  /** IANA numbers (TCP 6, UDP 17): what hcsshim and Azure CNI send. */
  Settings: { Protocol: 6 | 17; InternalPort: number; ExternalPort: number; VIP?: string };
}

export interface HostComputeEndpoint {
  HostComputeNetwork: string;
  SchemaVersion: typeof HCN_SCHEMA;
  Policies?: PortMappingPolicy[];
}

/** An endpoint on `networkId` publishing `ports`; HNS assigns its address. A specific host IP becomes VIP (libnetwork windows driver). */
export function endpointDocument(networkId: string, ports: PortMapping[]): HostComputeEndpoint {
  const doc: HostComputeEndpoint = { HostComputeNetwork: networkId, SchemaVersion: HCN_SCHEMA };
  const seen = new Set<string>();
  const policies: PortMappingPolicy[] = [];
  for (const p of ports) {
    for (const port of [p.hostPort, p.containerPort]) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw invalidArgument(`The port ${port} is not between 1 and 65535`, 'check the -p option');
      }
    }
    const key = `${p.protocol}/${p.hostIp}/${p.hostPort}`;
    if (seen.has(key)) throw invalidArgument(`Host port ${p.hostPort}/${p.protocol} is published twice`, 'publish each host port once');
    seen.add(key);
    const settings: PortMappingPolicy['Settings'] = { Protocol: p.protocol === 'udp' ? 17 : 6, InternalPort: p.containerPort, ExternalPort: p.hostPort };
    if (p.hostIp && p.hostIp !== '0.0.0.0' && p.hostIp !== '::') settings.VIP = p.hostIp;
    policies.push({ Type: 'PortMapping', Settings: settings });
  }
  if (policies.length) doc.Policies = policies;
  return doc;
}

export const namespaceDocument = (): { SchemaVersion: typeof HCN_SCHEMA } => ({ SchemaVersion: HCN_SCHEMA });

/** HcnModifyNamespace request adding (or removing) an endpoint: there is no HcnAddNamespaceEndpoint export. */
export function namespaceEndpointRequest(endpointId: string, request: 'Add' | 'Remove' = 'Add') {
  return { ResourceType: 'Endpoint' as const, RequestType: request, Settings: { EndpointId: endpointId } };
}

/** HostComputeQuery; Filter is itself a JSON string. */
export function hcnQuery(filter: Record<string, string>, detailed = false) {
  return { SchemaVersion: HCN_SCHEMA, Flags: detailed ? 1 : 0, Filter: JSON.stringify(filter) };
}
