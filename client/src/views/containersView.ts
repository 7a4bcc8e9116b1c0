// The Containers view: the engine's containers grouped by state, refreshed from pushed events.
import * as vscode from 'vscode';
import * as P from '../../../engine/src/protocol';
import { groupContainers, type ContainerGroup, type ContainerRow } from '../model/containerRows';
import { ContextKeys, ContextValues } from '../model/viewIds';
import { errorText, type EngineClient } from '../engine/engineClient';
import { RefreshScheduler } from './refreshScheduler';

export class ContainerGroupItem extends vscode.TreeItem {
  constructor(readonly group: ContainerGroup) {
    super(`${group.label} (${group.containers.length})`, vscode.TreeItemCollapsibleState.Expanded);
    this.id = `group:${group.key}`;
    this.contextValue = ContextValues.containerGroup;
  }
}

const ICONS: Record<ContainerRow['icon'], vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('vm-running', new vscode.ThemeColor('testing.iconPassed')),
  paused: new vscode.ThemeIcon('debug-pause'),
  created: new vscode.ThemeIcon('vm-outline'),
  stopped: new vscode.ThemeIcon('vm-outline'),
  failed: new vscode.ThemeIcon('vm-outline', new vscode.ThemeColor('testing.iconFailed')),
};

export class ContainerItem extends vscode.TreeItem {
  constructor(readonly row: ContainerRow) {
    super(row.label, vscode.TreeItemCollapsibleState.None);
    this.id = `container:${row.id}`;
    this.description = row.description;
    this.tooltip = row.tooltip;
    this.contextValue = row.contextValue;
    this.iconPath = ICONS[row.icon];
  }
}

type Node = ContainerGroupItem | ContainerItem;

export class ContainersView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly scheduler = new RefreshScheduler(() => this.changed.fire(undefined));
  private readonly subs: vscode.Disposable[];

  constructor(private readonly engine: EngineClient) {
    this.subs = [
      engine.onEvent((e) => {
        if (e.type === 'container') this.scheduler.schedule();
      }),
      engine.onDidChangeState(() => this.scheduler.schedule()),
    ];
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(n: Node): vscode.TreeItem {
    return n;
  }

  async getChildren(n?: Node): Promise<Node[]> {
    if (n instanceof ContainerGroupItem) return n.group.containers.map((r) => new ContainerItem(r));
    if (n) return [];
    let list: P.ContainerSummary[];
    try {
      list = await this.engine.request(P.ContainerListRequest.type, { all: true });
    } catch (err) {
      void vscode.commands.executeCommand('setContext', ContextKeys.hasContainers, false);
      // The welcome view explains; the error itself goes to the output channel and status bar.
      void errorText(err);
      return [];
    }
    void vscode.commands.executeCommand('setContext', ContextKeys.hasContainers, list.length > 0);
    return groupContainers(list, Date.now()).map((g) => new ContainerGroupItem(g));
  }

  dispose(): void {
    this.scheduler.dispose();
    this.changed.dispose();
    for (const s of this.subs) s.dispose();
  }
}
