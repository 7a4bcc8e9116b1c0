// The Images view: repository:tag, OS, size, age; dangling images hidden unless shown.
import * as vscode from 'vscode';
import * as P from '../../../engine/src/protocol';
import { imageRows, type ImageRow } from '../model/imageRows';
import { ContextKeys } from '../model/viewIds';
import type { EngineClient } from '../engine/engineClient';
import { RefreshScheduler } from './refreshScheduler';

export class ImageItem extends vscode.TreeItem {
  constructor(readonly row: ImageRow) {
    super(row.label, vscode.TreeItemCollapsibleState.None);
    this.id = `image:${row.id}:${row.label}`;
    this.description = row.description;
    this.tooltip = row.tooltip;
    this.contextValue = row.contextValue;
    this.iconPath = new vscode.ThemeIcon(row.dangling ? 'circle-outline' : 'package');
  }
}

export class ImagesView implements vscode.TreeDataProvider<ImageItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ImageItem | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly scheduler = new RefreshScheduler(() => this.changed.fire(undefined));
  private readonly subs: vscode.Disposable[];
  private showDangling = false;

  constructor(private readonly engine: EngineClient) {
    this.subs = [
      engine.onEvent((e) => {
        if (e.type === 'image') this.scheduler.schedule();
      }),
      engine.onDidChangeState(() => this.scheduler.schedule()),
    ];
    void vscode.commands.executeCommand('setContext', ContextKeys.danglingShown, false);
  }

  setShowDangling(show: boolean): void {
    this.showDangling = show;
    void vscode.commands.executeCommand('setContext', ContextKeys.danglingShown, show);
    this.refresh();
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(n: ImageItem): vscode.TreeItem {
    return n;
  }

  async getChildren(n?: ImageItem): Promise<ImageItem[]> {
    if (n) return [];
    let list: P.ImageSummary[];
    try {
      list = await this.engine.request(P.ImageListRequest.type, { all: true });
    } catch {
      void vscode.commands.executeCommand('setContext', ContextKeys.hasImages, false);
      return [];
    }
    void vscode.commands.executeCommand('setContext', ContextKeys.hasImages, list.length > 0);
    return imageRows(list, Date.now(), this.showDangling).map((r) => new ImageItem(r));
  }

  dispose(): void {
    this.scheduler.dispose();
    this.changed.dispose();
    for (const s of this.subs) s.dispose();
  }
}
