// computenetwork.dll, the Host Compute Network API (hcs.md §6): NAT network, endpoint with port
// mappings, namespace. IDs are REFGUID; every call ends with a PWSTR* ErrorRecord (CoTaskMemFree).
import { loadLibrary } from './library';
import { hcsTypes, type NativeFunction } from './types';

export interface ComputeNetwork {
  HcnEnumerateNetworks: NativeFunction;
  HcnCreateNetwork: NativeFunction;
  HcnOpenNetwork: NativeFunction;
  HcnCloseNetwork: NativeFunction;
  HcnCreateEndpoint: NativeFunction;
  HcnQueryEndpointProperties: NativeFunction;
  HcnDeleteEndpoint: NativeFunction;
  HcnCloseEndpoint: NativeFunction;
  HcnCreateNamespace: NativeFunction;
  HcnModifyNamespace: NativeFunction;
  HcnDeleteNamespace: NativeFunction;
  HcnCloseNamespace: NativeFunction;
}

export function loadComputeNetwork(path = 'computenetwork.dll'): ComputeNetwork {
  hcsTypes();
  const lib = loadLibrary(path, 'install the Windows Containers feature and restart');
  const f = (d: string) => lib.func(d);
  return {
    HcnEnumerateNetworks: f('HRESULT HcnEnumerateNetworks(const char16_t *query, _Out_ void **networks, _Out_ void **errorRecord)'),
    HcnCreateNetwork: f('HRESULT HcnCreateNetwork(GUID *id, const char16_t *settings, _Out_ HCN_NETWORK *network, _Out_ void **errorRecord)'),
    HcnOpenNetwork: f('HRESULT HcnOpenNetwork(GUID *id, _Out_ HCN_NETWORK *network, _Out_ void **errorRecord)'),
    HcnCloseNetwork: f('HRESULT HcnCloseNetwork(HCN_NETWORK network)'),
    HcnCreateEndpoint: f('HRESULT HcnCreateEndpoint(HCN_NETWORK network, GUID *id, const char16_t *settings, _Out_ HCN_ENDPOINT *endpoint, _Out_ void **errorRecord)'),
    HcnQueryEndpointProperties: f('HRESULT HcnQueryEndpointProperties(HCN_ENDPOINT endpoint, const char16_t *query, _Out_ void **properties, _Out_ void **errorRecord)'),
    HcnDeleteEndpoint: f('HRESULT HcnDeleteEndpoint(GUID *id, _Out_ void **errorRecord)'),
    HcnCloseEndpoint: f('HRESULT HcnCloseEndpoint(HCN_ENDPOINT endpoint)'),
    HcnCreateNamespace: f('HRESULT HcnCreateNamespace(GUID *id, const char16_t *settings, _Out_ HCN_NAMESPACE *namespace, _Out_ void **errorRecord)'),
    HcnModifyNamespace: f('HRESULT HcnModifyNamespace(HCN_NAMESPACE namespace, const char16_t *settings, _Out_ void **errorRecord)'),
    HcnDeleteNamespace: f('HRESULT HcnDeleteNamespace(GUID *id, _Out_ void **errorRecord)'),
    HcnCloseNamespace: f('HRESULT HcnCloseNamespace(HCN_NAMESPACE namespace)'),
  };
}
