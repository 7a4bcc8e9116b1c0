// Runs inside VS Code's extension host (bundled by ../extensionHost.test.ts; `run` is what
// @vscode/test-electron calls). The engine of SILO_EXT_TEST_ROOT already runs one busybox
// container named by SILO_EXT_TEST_CONTAINER.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { SiloExtensionApi } from '../../../client/src/extension';

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function run(): Promise<void> {
  const ext = vscode.extensions.getExtension('silo-dev.silo');
  assert.ok(ext, 'the Silo extension is installed in the test instance');

  // Activation: the data root setting is the user's (see the runner), the engine answers.
  const api = (await ext.activate()) as SiloExtensionApi;
  assert.ok(ext.isActive, 'the extension activates');

  // Every contributed command is registered.
  const registered = new Set(await vscode.commands.getCommands(true));
  const contributed: Array<{ command: string }> = ext.packageJSON.contributes.commands;
  const missing = contributed.map((c) => c.command).filter((c) => !registered.has(c));
  assert.deepEqual(missing, [], 'every contributed command is registered');

  // The Containers view lists the running container, from the engine.
  const name = process.env.SILO_EXT_TEST_CONTAINER ?? '';
  const labels = await eventually(`the Containers view shows ${name}`, async () => {
    const groups = await api.views.containers.getChildren();
    const rows = (await Promise.all(groups.map((g) => api.views.containers.getChildren(g)))).flat();
    const all = rows.map((r) => String(typeof r.label === 'string' ? r.label : r.label?.label));
    return all.includes(name) ? all : undefined;
  });
  assert.ok(labels.includes(name));
  const groups = await api.views.containers.getChildren();
  assert.match(String(groups[0].label), /^Running \(1\)$/i, 'grouped by state');
}
