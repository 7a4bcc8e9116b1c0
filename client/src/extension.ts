// The extension's composition root: one EngineClient per window (one engine per data root on the
// machine), the views fed by its pushed events, the language client, logs, exec, tasks and debug.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { BuildCacheHintsNotification } from '../../server/src/protocol';
import { registerContainerCommands } from './commands/containerCommands';
import { registerImageCommands } from './commands/imageCommands';
import { SiloDebugProvider } from './debug/debugProvider';
import { EngineClient, errorText } from './engine/engineClient';
import { SiloFileSystem } from './files/siloFileSystem';
import { startLanguageClient } from './languageClient';
import { LogDocuments } from './logs/logDocuments';
import { resolveDataRoot } from './model/dataRoot';
import { ContextKeys, DEBUG_TYPE, SCHEME_FILES, SCHEME_LOGS, TASK_BUILD, TASK_RUN, ViewIds } from './model/viewIds';
import { EngineStatusBar } from './statusBar';
import { SiloTaskProvider } from './tasks/taskProvider';
import { ContainerItem, ContainersView } from './views/containersView';
import { ImageItem, ImagesView } from './views/imagesView';
import { ChangeTreeItem, LayersView } from './views/layersView';

let languageClient: LanguageClient | undefined;

/** What activation hands to other extensions (and the extension-host tests): the views' tree data. */
export interface SiloExtensionApi {
  views: { containers: ContainersView; images: ImagesView; layers: LayersView };
}

export async function activate(context: vscode.ExtensionContext): Promise<SiloExtensionApi> {
  const output = vscode.window.createOutputChannel('Silo');
  const engineScript = context.asAbsolutePath('dist/silo.js');
  const engine = new EngineClient(() => resolveDataRoot(vscode.workspace.getConfiguration('silo').get<string>('dataRoot')), engineScript, output);
  const sub = (...d: vscode.Disposable[]) => context.subscriptions.push(...d);
  sub(output, engine, new EngineStatusBar(engine));
  sub(engine.onDidChangeState((s) => void vscode.commands.executeCommand('setContext', ContextKeys.engineState, s)));

  const containers = new ContainersView(engine);
  const images = new ImagesView(engine);
  const layers = new LayersView(engine);
  const containersTree = vscode.window.createTreeView(ViewIds.containers, { treeDataProvider: containers, showCollapseAll: true });
  const imagesTree = vscode.window.createTreeView(ViewIds.images, { treeDataProvider: images });
  const layersTree = vscode.window.createTreeView(ViewIds.layers, { treeDataProvider: layers });
  layers.view = layersTree;
  sub(containers, images, layers, containersTree, imagesTree, layersTree);
  sub(
    containersTree.onDidChangeSelection((e) => {
      const item = e.selection[0];
      if (item instanceof ContainerItem) layers.show({ kind: 'container', id: item.row.id, label: item.row.label });
    }),
    imagesTree.onDidChangeSelection((e) => {
      const item = e.selection[0];
      if (item instanceof ImageItem) layers.show({ kind: 'image', ref: item.row.ref, label: item.row.label });
    }),
  );

  const logs = new LogDocuments(engine);
  sub(logs, vscode.workspace.registerTextDocumentContentProvider(SCHEME_LOGS, logs));
  sub(vscode.workspace.registerFileSystemProvider(SCHEME_FILES, new SiloFileSystem(engine), { isCaseSensitive: true, isReadonly: true }));

  const siloCli: [string, ...string[]] = [process.execPath, engineScript];
  const debug = new SiloDebugProvider(engine, siloCli);
  sub(debug, vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, debug));
  sub(
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, { provideDebugConfigurations: () => debug.provideDebugConfigurations() }, vscode.DebugConfigurationProviderTriggerKind.Dynamic),
  );
  const tasks = new SiloTaskProvider(engine, (dockerfile, result) => {
    void languageClient?.sendNotification(BuildCacheHintsNotification.type, { uri: vscode.Uri.file(dockerfile).toString(), steps: result.steps });
    // The engine announces no event for a built image (yet): show it now.
    images.refresh();
  });
  sub(vscode.tasks.registerTaskProvider(TASK_RUN, tasks), vscode.tasks.registerTaskProvider(TASK_BUILD, tasks));

  sub(
    ...registerContainerCommands(engine, logs, layers),
    ...registerImageCommands(engine, images, layers, logs),
    vscode.commands.registerCommand('silo.containers.refresh', () => containers.refresh()),
    vscode.commands.registerCommand('silo.images.refresh', () => images.refresh()),
    vscode.commands.registerCommand('silo.layers.refresh', () => layers.refresh()),
    vscode.commands.registerCommand('silo.change.open', (item?: ChangeTreeItem) => item && LayersView.open(item)),
    vscode.commands.registerCommand('silo.logs.toggleTimestamps', (uri?: vscode.Uri) => logs.toggleTimestamps(uri)),
    vscode.commands.registerCommand('silo.logs.toggleFollow', (uri?: vscode.Uri) => {
      const on = logs.toggleFollow(uri);
      if (on !== undefined) vscode.window.setStatusBarMessage(on ? 'Silo: following the log' : 'Silo: not following the log', 2000);
    }),
    vscode.commands.registerCommand('silo.engine.start', async () => {
      try {
        await engine.connection();
      } catch (err) {
        void vscode.window.showErrorMessage(`The Silo engine did not start: ${errorText(err)}`);
      }
    }),
    vscode.commands.registerCommand('silo.engine.reconnect', async () => {
      engine.reset();
      await vscode.commands.executeCommand('silo.engine.start');
    }),
    vscode.commands.registerCommand('silo.engine.showInfo', async () => {
      if (engine.state !== 'running') return vscode.commands.executeCommand('silo.engine.start');
      output.show(true);
      output.appendLine(JSON.stringify(engine.info, null, 2));
    }),
    vscode.commands.registerCommand('silo.dockerfile.build', async (uri?: vscode.Uri) => {
      if (!vscode.workspace.isTrusted) return void vscode.window.showErrorMessage('Building runs workspace content: trust this workspace first.');
      const file = uri ?? vscode.window.activeTextEditor?.document.uri;
      if (!file || file.scheme !== 'file') return void vscode.window.showErrorMessage('Open or select a Dockerfile to build.');
      const folder = vscode.workspace.getWorkspaceFolder(file);
      const base = folder?.uri.fsPath ?? path.dirname(file.fsPath);
      const tag = await vscode.window.showInputBox({ title: 'Build image', prompt: 'Tag for the image (empty: untagged)', value: `${path.basename(path.dirname(file.fsPath)).toLowerCase()}:latest` });
      if (tag === undefined) return;
      const def = { type: TASK_BUILD, dockerfile: path.relative(base, file.fsPath), context: path.relative(base, path.dirname(file.fsPath)) || '.', ...(tag ? { tag } : {}) };
      const task = tasks.resolveTask(new vscode.Task(def, folder ?? vscode.TaskScope.Workspace, `build ${def.dockerfile}`, 'silo'));
      if (task) {
        task.problemMatchers = ['$silo-build'];
        await vscode.tasks.executeTask(task);
      }
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('silo.dataRoot')) {
        engine.reset();
        void engine.connection().catch(() => undefined);
      }
    }),
  );

  // Connect now (starting the engine if none runs): the views and the status bar show its state.
  void engine.connection().catch((err: unknown) => output.appendLine(`engine: ${errorText(err)}`));

  try {
    languageClient = await startLanguageClient(context, engine);
  } catch (err) {
    output.appendLine(`the Dockerfile language server did not start: ${errorText(err)}`);
  }
  return { views: { containers, images, layers } };
}

export async function deactivate(): Promise<void> {
  await languageClient?.stop();
}
