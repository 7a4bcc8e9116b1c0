// The same bindings against the real computecore.dll / vmcompute.dll, on a Windows host with the
// Containers feature (the Windows CI workflow runs this; elsewhere it skips). Nothing here creates a
// container: it checks that every declaration loads and that the calls marshal and answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadHcsApi } from '../../../engine/src/platform/windows/hcs/api';
import { runOperation } from '../../../engine/src/platform/windows/hcs/operation';
import { HcsComputeSystem } from '../../../engine/src/platform/windows/hcs/computeSystem';
import { takeString } from '../../../engine/src/platform/windows/bindings/kernel32';
import { loadVmcompute, guidToString } from '../../../engine/src/platform/windows/bindings/vmcompute';
import { windowsHostInfo } from '../../../engine/src/platform/windows/host';
import { HcsError } from '../../../engine/src/platform/windows/hresult';
import { parsePropertiesList } from '../../../engine/src/platform/windows/documents/results';

const skip = process.platform === 'win32' ? false : 'needs a Windows host with the Containers feature';

test('host facts: build, revision, Containers feature', { skip }, () => {
  const h = windowsHostInfo();
  console.log(`host ${h.version}, containers=${h.containers}, hyperv=${h.hyperv}, cpus=${h.cpuCount}`);
  assert.ok(h.build >= 17763, 'Windows 10 1809 / Server 2019 or later');
  assert.ok(h.containers, 'computecore.dll loads');
});

test('service properties list schema 2.1', { skip }, () => {
  const api = loadHcsApi();
  const out: unknown[] = [null];
  const hr = api.core.HcsGetServiceProperties!('{"PropertyTypes":["Basic"]}', out) as number;
  assert.equal(hr, 0);
  const doc = JSON.parse(takeString(out[0], api.free) ?? '{}');
  const versions = doc.Properties[0].SupportedSchemaVersions as Array<{ Major: number; Minor: number }>;
  assert.ok(versions.some((v) => v.Major === 2 && v.Minor >= 1), JSON.stringify(versions));
});

test('enumerating compute systems completes through the shared completion callback', { skip }, async () => {
  const api = loadHcsApi();
  const r = await runOperation(api, 'list containers', (op) => api.core.HcsEnumerateComputeSystems('{"Types":["Container"]}', op));
  assert.ok(Array.isArray(parsePropertiesList(r.document)));
});

test('an invalid document is refused with HCS_E_INVALID_JSON and its events', { skip }, async () => {
  const api = loadHcsApi();
  await assert.rejects(HcsComputeSystem.create(api, `silo-contract-${process.pid}`, { SchemaVersion: { Major: 2, Minor: 1 }, Container: { NoSuchField: 1 } }), (err: unknown) => {
    assert.ok(err instanceof HcsError, String(err));
    console.log(err.line, err.events);
    return true;
  });
});

test('NameToGuid is deterministic', { skip }, () => {
  const vm = loadVmcompute();
  const a: Record<string, unknown> = {};
  const b: Record<string, unknown> = {};
  assert.equal(vm.NameToGuid('silo-layer', a), 0);
  assert.equal(vm.NameToGuid('silo-layer', b), 0);
  assert.equal(guidToString(a as never), guidToString(b as never));
  assert.match(guidToString(a as never), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
});
