// The Layers view: for a selected image its history (instruction and size per layer), each step that
// added a layer expanding to that layer's files (opened read-only from the layer); for a selected
// container its live diff, where a changed file opens in the diff editor (image side vs container side).
import * as vscode from 'vscode';
import * as P from '../../../engine/src/protocol';
import { changeItems, historyItems, layerFileItems, type ChangeItem, type LayerFileItem } from '../model/layerRows';
import { formatLayerPath, formatSiloPath } from '../model/siloUri';
import { SCHEME_FILES } from '../model/viewIds';
import { errorText, type EngineClient } from '../engine/engineClient';
import { RefreshScheduler } from './refreshScheduler';

export type LayersSubject = { kind: 'image'; ref: string; label: string } | { kind: 'container'; id: string; label: string };

const KIND_ICON: Record<P.Change['kind'], vscode.ThemeIcon> = {
  A: new vscode.ThemeIcon('diff-added', new vscode.ThemeColor('gitDecoration.addedResourceForeground')),
  C: new vscode.ThemeIcon('diff-modified', new vscode.ThemeColor('gitDecoration.modifiedResourceForeground')),
  D: new vscode.ThemeIcon('diff-removed', new vscode.ThemeColor('gitDecoration.deletedResourceForeground')),
};

export function siloFileUri(view: 'container' | 'image', containerId: string, path: string): vscode.Uri {
  return vscode.Uri.from({ scheme: SCHEME_FILES, authority: view, path: formatSiloPath({ view, containerId, path }) });
}

export class ChangeTreeItem extends vscode.TreeItem {
  constructor(readonly containerId: string, readonly change: ChangeItem) {
    super(change.label, vscode.TreeItemCollapsibleState.None);
    this.id = `change:${containerId}:${change.path}`;
    this.description = change.description;
    this.contextValue = change.contextValue;
    this.iconPath = KIND_ICON[change.kind];
    this.resourceUri = siloFileUri(change.kind === 'D' ? 'image' : 'container', containerId, change.path);
    this.command = { command: 'silo.change.open', title: 'Open Change', arguments: [this] };
  }
}

export function layerFileUri(imageId: string, index: number, path: string): vscode.Uri {
  return vscode.Uri.from({ scheme: SCHEME_FILES, authority: 'layer', path: formatLayerPath({ imageId, index, path }) });
}

/** A history step that added a layer; its children are the layer's files. */
export class HistoryLayerItem extends vscode.TreeItem {
  constructor(label: string, readonly imageId: string, readonly layer: number) {
    super(label, vscode.TreeItemCollapsibleState.Collapsed);
  }
}

const FILE_ICON: Record<LayerFileItem['kind'], vscode.ThemeIcon> = {
  file: vscode.ThemeIcon.File,
  dir: vscode.ThemeIcon.Folder,
  symlink: new vscode.ThemeIcon('file-symlink-file'),
  whiteout: new vscode.ThemeIcon('diff-removed', new vscode.ThemeColor('gitDecoration.deletedResourceForeground')),
  other: new vscode.ThemeIcon('circle-slash'),
  more: new vscode.ThemeIcon('ellipsis'),
};

export class LayersView implements vscode.TreeDataProvider<vscode.TreeItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.TreeItem | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly scheduler = new RefreshScheduler(() => this.changed.fire(undefined), 300);
  private readonly subs: vscode.Disposable[];
  subject: LayersSubject | undefined;
  view: vscode.TreeView<vscode.TreeItem> | undefined;

  constructor(private readonly engine: EngineClient) {
    this.subs = [
      engine.onEvent((e) => {
        // A container's diff changes while it runs; its events (exec, die, ...) are the moments to look again.
        if (this.subject?.kind === 'container' && e.type === 'container' && e.id.startsWith(this.subject.id)) this.scheduler.schedule();
        if (this.subject?.kind === 'image' && e.type === 'image') this.scheduler.schedule();
      }),
    ];
  }

  show(subject: LayersSubject): void {
    this.subject = subject;
    if (this.view) this.view.description = subject.kind === 'image' ? `history of ${subject.label}` : `changes in ${subject.label}`;
    this.refresh();
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(n: vscode.TreeItem): vscode.TreeItem {
    return n;
  }

  async getChildren(n?: vscode.TreeItem): Promise<vscode.TreeItem[]> {
    if (n instanceof HistoryLayerItem) return this.layerFiles(n);
    if (n || !this.subject) return [];
    const s = this.subject;
    try {
      if (s.kind === 'image') {
        const [rows, layers] = await Promise.all([
          this.engine.request(P.ImageHistoryRequest.type, { ref: s.ref }),
          this.engine.request(P.ImageLayersRequest.type, { ref: s.ref }),
        ]);
        return historyItems(rows, layers.layerOfRow).map((h, i) => {
          const item = h.layer === null ? new vscode.TreeItem(h.label, vscode.TreeItemCollapsibleState.None) : new HistoryLayerItem(h.label, layers.id, h.layer);
          item.id = `history:${layers.id}:${i}`;
          item.description = h.description;
          item.tooltip = h.tooltip;
          item.contextValue = h.contextValue;
          item.iconPath = new vscode.ThemeIcon(h.empty ? 'symbol-key' : 'layers');
          return item;
        });
      }
      const changes = await this.engine.request(P.ContainerDiffRequest.type, { id: s.id });
      if (changes.length === 0) {
        const none = new vscode.TreeItem('No changes against the image');
        none.iconPath = new vscode.ThemeIcon('check');
        return [none];
      }
      return changeItems(changes).map((c) => new ChangeTreeItem(s.id, c));
    } catch (err) {
      const item = new vscode.TreeItem(errorText(err));
      item.iconPath = new vscode.ThemeIcon('warning');
      return [item];
    }
  }

  private async layerFiles(n: HistoryLayerItem): Promise<vscode.TreeItem[]> {
    try {
      const listing = await this.engine.request(P.ImageLayerFilesRequest.type, { ref: n.imageId, index: n.layer });
      return layerFileItems(listing).map((f, i) => {
        const item = new vscode.TreeItem(f.label, vscode.TreeItemCollapsibleState.None);
        // By position: a tar may hold one path twice (the later entry wins when unpacked).
        item.id = `layer:${n.imageId}:${n.layer}:${i}`;
        item.description = f.description;
        item.tooltip = f.tooltip;
        item.contextValue = f.contextValue;
        item.iconPath = FILE_ICON[f.kind];
        if (f.openPath !== undefined) {
          const uri = layerFileUri(n.imageId, n.layer, f.openPath);
          item.resourceUri = uri;
          item.command = { command: 'vscode.open', title: 'Open File', arguments: [uri, { preview: true }] };
        }
        return item;
      });
    } catch (err) {
      const item = new vscode.TreeItem(errorText(err));
      item.iconPath = new vscode.ThemeIcon('warning');
      return [item];
    }
  }

  /** Opens a change: a diff (image | container) for C, the one side that exists for A and D. */
  static async open(item: ChangeTreeItem): Promise<void> {
    const { containerId, change } = item;
    const name = change.path.split('/').pop() ?? change.path;
    const left = siloFileUri('image', containerId, change.path);
    const right = siloFileUri('container', containerId, change.path);
    if (change.kind === 'C') {
      await vscode.commands.executeCommand('vscode.diff', left, right, `${name} (image ↔ container ${containerId.slice(0, 12)})`, { preview: true });
    } else {
      await vscode.commands.executeCommand('vscode.open', change.kind === 'A' ? right : left, { preview: true });
    }
  }

  dispose(): void {
    this.scheduler.dispose();
    this.changed.dispose();
    for (const s of this.subs) s.dispose();
  }
}
