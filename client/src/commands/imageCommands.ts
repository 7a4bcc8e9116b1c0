// Commands on images (silo.image.*): run with a quick form, inspect, history, tag, remove.
import * as vscode from 'vscode';
import * as P from '../../../engine/src/protocol';
import { splitCommandLine } from '../model/commandLine';
import { createParamsFromTask } from '../model/runOptions';
import { ViewIds } from '../model/viewIds';
import { errorText, type EngineClient } from '../engine/engineClient';
import type { LogDocuments } from '../logs/logDocuments';
import type { ImageItem, ImagesView } from '../views/imagesView';
import type { LayersView } from '../views/layersView';
import { openJson } from './containerCommands';

async function pickImage(engine: EngineClient, item: ImageItem | undefined): Promise<string | undefined> {
  if (item?.row) return item.row.ref;
  const list = await engine.request(P.ImageListRequest.type, {});
  const pick = await vscode.window.showQuickPick(
    list.filter((i) => i.repository !== '<none>').map((i) => ({ label: `${i.repository}:${i.tag}`, description: i.id.slice(7, 19) })),
    { placeHolder: 'Image' },
  );
  return pick?.label;
}

export function registerImageCommands(engine: EngineClient, images: ImagesView, layers: LayersView, logs: LogDocuments): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('silo.image.run', async (item?: ImageItem) => {
      const ref = await pickImage(engine, item);
      if (!ref) return;
      // The quick form: each box may be left empty (Enter) for the image's defaults.
      const name = await vscode.window.showInputBox({ title: `Run ${ref} (1/4)`, prompt: 'Container name (empty: a generated name)' });
      if (name === undefined) return;
      const ports = await vscode.window.showInputBox({ title: `Run ${ref} (2/4)`, prompt: 'Published ports, comma-separated: [ip:]hostPort:containerPort', placeHolder: '8080:80' });
      if (ports === undefined) return;
      const env = await vscode.window.showInputBox({ title: `Run ${ref} (3/4)`, prompt: 'Environment, comma-separated KEY=VALUE' });
      if (env === undefined) return;
      const command = await vscode.window.showInputBox({ title: `Run ${ref} (4/4)`, prompt: "Command (empty: the image's CMD)" });
      if (command === undefined) return;
      let isolation: 'process' | 'hyperv' | undefined;
      if (engine.info?.os === 'windows' && engine.info.isolations.length > 1) {
        const pick = await vscode.window.showQuickPick(engine.info.isolations, { title: `Run ${ref}: isolation`, placeHolder: engine.info.defaultIsolation });
        if (!pick) return;
        isolation = pick as 'process' | 'hyperv';
      }
      try {
        const split = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
        const params = createParamsFromTask(
          { type: 'silo-run', image: ref, containerName: name.trim() || undefined, ports: split(ports), env: split(env), command: command.trim() ? splitCommandLine(command) : undefined, isolation },
          { env: process.env },
        );
        const created = await engine.request(P.ContainerCreateRequest.type, params);
        await engine.request(P.ContainerStartRequest.type, { id: created.id });
        const pick = await vscode.window.showInformationMessage(`Started ${created.name}.`, 'Show Logs');
        if (pick) await logs.show(created.id, created.name);
      } catch (err) {
        void vscode.window.showErrorMessage(errorText(err));
      }
    }),
    vscode.commands.registerCommand('silo.image.inspect', async (item?: ImageItem) => {
      const ref = await pickImage(engine, item);
      if (!ref) return;
      try {
        await openJson(ref, await engine.request(P.ImageInspectRequest.type, { ref }));
      } catch (err) {
        void vscode.window.showErrorMessage(errorText(err));
      }
    }),
    vscode.commands.registerCommand('silo.image.history', async (item?: ImageItem) => {
      const ref = await pickImage(engine, item);
      if (!ref) return;
      layers.show({ kind: 'image', ref, label: ref });
      await vscode.commands.executeCommand(`${ViewIds.layers}.focus`);
    }),
    vscode.commands.registerCommand('silo.image.tag', async (item?: ImageItem) => {
      const ref = await pickImage(engine, item);
      if (!ref) return;
      const target = await vscode.window.showInputBox({ title: `Tag ${ref}`, prompt: 'New reference, e.g. myapp:1.0', value: ref });
      if (!target) return;
      try {
        await engine.request(P.ImageTagRequest.type, { source: ref, target });
      } catch (err) {
        void vscode.window.showErrorMessage(errorText(err));
      }
    }),
    vscode.commands.registerCommand('silo.image.remove', async (item?: ImageItem) => {
      const ref = await pickImage(engine, item);
      if (!ref) return;
      const ok = await vscode.window.showWarningMessage(`Remove image ${ref}?`, { modal: true }, 'Remove');
      if (!ok) return;
      try {
        await engine.request(P.ImageRemoveRequest.type, { ref });
      } catch (err) {
        void vscode.window.showErrorMessage(errorText(err));
      }
    }),
    vscode.commands.registerCommand('silo.images.showDangling', () => images.setShowDangling(true)),
    vscode.commands.registerCommand('silo.images.hideDangling', () => images.setShowDangling(false)),
  ];
}
