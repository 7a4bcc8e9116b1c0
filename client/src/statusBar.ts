// The status bar item: the engine's state, the host it runs containers on, the default isolation.
import * as vscode from 'vscode';
import type { EngineClient, EngineState } from './engine/engineClient';

const ICON: Record<EngineState, string> = {
  stopped: '$(circle-outline)',
  starting: '$(sync~spin)',
  running: '$(vm-running)',
  restarting: '$(sync~spin)',
  failed: '$(error)',
};

export class EngineStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('silo.engine', vscode.StatusBarAlignment.Left, 10);
  private readonly sub: vscode.Disposable;

  constructor(private readonly engine: EngineClient) {
    this.item.name = 'Silo Engine';
    this.item.command = 'silo.engine.showInfo';
    this.sub = engine.onDidChangeState(() => this.render());
    this.render();
    this.item.show();
  }

  private render(): void {
    const s = this.engine.state;
    const info = this.engine.info;
    if (s === 'running' && info) {
      const host = info.os === 'windows' ? `Windows ${info.osVersion}` : `Linux ${info.kernel}`;
      const iso = info.os === 'windows' ? ` · ${info.defaultIsolation}` : '';
      this.item.text = `${ICON[s]} Silo: ${host}${iso}`;
      this.item.tooltip = new vscode.MarkdownString(
        [
          `**Silo engine** ${info.version} (pid ${info.pid})`,
          `- Host: ${info.os} ${info.osVersion}, kernel ${info.kernel}, ${info.architecture}`,
          `- Runtime: ${info.runtime}, storage: ${info.storageDriver}${info.cgroupMode ? `, cgroups ${info.cgroupMode}` : ''}`,
          `- Isolation: ${info.defaultIsolation} (supported: ${info.isolations.join(', ') || 'none'})`,
          `- Data root: ${info.dataRoot}`,
          `- Containers: ${info.containers.running} running / ${info.containers.total}; images: ${info.images}`,
        ].join('\n'),
      );
    } else {
      this.item.text = `${ICON[s]} Silo: engine ${s}`;
      this.item.tooltip = s === 'failed' ? 'The Silo engine is not reachable. Click for details.' : `The Silo engine is ${s}.`;
    }
    this.item.backgroundColor = s === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.sub.dispose();
    this.item.dispose();
  }
}
