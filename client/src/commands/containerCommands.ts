// Commands on containers (silo.container.*): from a tree item, or from the palette with a picker.
import * as vscode from 'vscode';
import * as P from '../../../engine/src/protocol';
import { errorText, type EngineClient } from '../engine/engineClient';
import { execPseudoterminal, shellFor } from '../exec/execTerminal';
import type { LogDocuments } from '../logs/logDocuments';
import type { ContainerItem } from '../views/containersView';
import type { LayersView } from '../views/layersView';
import { ViewIds } from '../model/viewIds';

interface Target {
  id: string;
  name: string;
}

async function pickContainer(engine: EngineClient, filter: (c: P.ContainerSummary) => boolean, placeHolder: string): Promise<Target | undefined> {
  const list = (await engine.request(P.ContainerListRequest.type, { all: true })).filter(filter);
  if (list.length === 0) {
    void vscode.window.showInformationMessage('No container fits: run one from the Images view first.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    list.map((c) => ({ label: c.name, description: `${c.image} · ${c.status}`, target: { id: c.id, name: c.name } })),
    { placeHolder },
  );
  return pick?.target;
}

async function target(engine: EngineClient, item: ContainerItem | undefined, filter: (c: P.ContainerSummary) => boolean, placeHolder: string): Promise<Target | undefined> {
  if (item?.row) return { id: item.row.id, name: item.row.label };
  return pickContainer(engine, filter, placeHolder);
}

const any = () => true;
const running = (c: P.ContainerSummary) => c.state === 'running';
const notRunning = (c: P.ContainerSummary) => c.state !== 'running';

async function act(title: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, fn);
  } catch (err) {
    void vscode.window.showErrorMessage(errorText(err));
  }
}

export async function openJson(title: string, value: unknown): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ language: 'json', content: `${JSON.stringify(value, null, 2)}\n` });
  await vscode.window.showTextDocument(doc, { preview: true });
  void title;
}

export function registerContainerCommands(engine: EngineClient, logs: LogDocuments, layers: LayersView): vscode.Disposable[] {
  const reg = (id: string, fn: (item?: ContainerItem) => unknown) => vscode.commands.registerCommand(id, fn);
  return [
    reg('silo.container.start', async (item) => {
      const t = await target(engine, item, notRunning, 'Container to start');
      if (t) await act(`Starting ${t.name}`, () => engine.request(P.ContainerStartRequest.type, { id: t.id }));
    }),
    reg('silo.container.stop', async (item) => {
      const t = await target(engine, item, running, 'Container to stop');
      if (t) await act(`Stopping ${t.name}`, () => engine.request(P.ContainerStopRequest.type, { id: t.id }));
    }),
    reg('silo.container.restart', async (item) => {
      const t = await target(engine, item, any, 'Container to restart');
      if (t) await act(`Restarting ${t.name}`, () => engine.request(P.ContainerRestartRequest.type, { id: t.id }));
    }),
    reg('silo.container.remove', async (item) => {
      const t = await target(engine, item, any, 'Container to remove');
      if (!t) return;
      const ok = await vscode.window.showWarningMessage(`Remove container ${t.name}? Its writable layer is deleted.`, { modal: true }, 'Remove');
      if (ok) await act(`Removing ${t.name}`, () => engine.request(P.ContainerRemoveRequest.type, { id: t.id, force: true }));
    }),
    reg('silo.container.logs', async (item) => {
      const t = await target(engine, item, any, 'Container whose logs to show');
      if (t) await logs.show(t.id, t.name);
    }),
    reg('silo.container.exec', async (item) => {
      const t = await target(engine, item, running, 'Container to open a shell in');
      if (!t) return;
      const terminal = vscode.window.createTerminal({ name: `silo: ${t.name}`, pty: execPseudoterminal(engine, t.id, shellFor(engine.info?.os)) });
      terminal.show();
    }),
    reg('silo.container.inspect', async (item) => {
      const t = await target(engine, item, any, 'Container to inspect');
      if (t) await act(`Inspecting ${t.name}`, async () => openJson(t.name, await engine.request(P.ContainerInspectRequest.type, { id: t.id })));
    }),
    reg('silo.container.diff', async (item) => {
      const t = await target(engine, item, any, 'Container whose changes to show');
      if (!t) return;
      layers.show({ kind: 'container', id: t.id, label: t.name });
      await vscode.commands.executeCommand(`${ViewIds.layers}.focus`);
    }),
    vscode.commands.registerCommand('silo.containers.prune', async () => {
      const ok = await vscode.window.showWarningMessage('Remove all stopped containers and dangling images?', { modal: true }, 'Prune');
      if (!ok) return;
      await act('Pruning', async () => {
        const r = await engine.request(P.SystemPruneRequest.type, {});
        void vscode.window.showInformationMessage(`Removed ${r.containersDeleted.length} containers and ${r.imagesDeleted.length} images; reclaimed ${r.spaceReclaimed} bytes.`);
      });
    }),
  ];
}
