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

/** A pull or push with its layers' progress in a notification; the result or the error is shown at the end. */
async function transfer(engine: EngineClient, title: string, run: (progressToken: string) => Promise<string>): Promise<void> {
  const token = engine.newToken();
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, async (progress) => {
    const layers = new Map<string, string>();
    const routing = engine.onLayerProgress(token, (p) => {
      layers.set(p.id, p.phase);
      const done = [...layers.values()].filter((ph) => ['complete', 'exists', 'pushed', 'mounted'].includes(ph)).length;
      const pct = p.total ? ` ${Math.floor(((p.current ?? 0) * 100) / p.total)}%` : '';
      progress.report({ message: `${done}/${layers.size} layers · ${p.id} ${p.phase}${pct}` });
    });
    try {
      void vscode.window.showInformationMessage(await run(token));
    } catch (err) {
      void vscode.window.showErrorMessage(errorText(err));
    } finally {
      routing.dispose();
    }
  });
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
    vscode.commands.registerCommand('silo.images.pull', async () => {
      const ref = await vscode.window.showInputBox({ title: 'Pull image', prompt: 'Image reference, e.g. busybox:latest or mcr.microsoft.com/windows/nanoserver:ltsc2022' });
      if (!ref) return;
      await transfer(engine, `Pulling ${ref}`, (progress) => engine.request(P.ImagePullRequest.type, { ref, progress }).then((r) => `Pulled ${r.reference} (${r.platform}, ${r.status})`));
    }),
    vscode.commands.registerCommand('silo.image.push', async (item?: ImageItem) => {
      const ref = await pickImage(engine, item);
      if (!ref) return;
      await transfer(engine, `Pushing ${ref}`, (progress) => engine.request(P.ImagePushRequest.type, { ref, progress }).then((r) => `Pushed ${r.tag}: ${r.digest}`));
    }),
    vscode.commands.registerCommand('silo.images.showDangling', () => images.setShowDangling(true)),
    vscode.commands.registerCommand('silo.images.hideDangling', () => images.setShowDangling(false)),
  ];
}
