// The `silo` debug type: resolveDebugConfiguration runs the app's container with the debugger
// reachable (model/debugPlan.ts decides how) and returns the real debugger's configuration, which VS
// Code then starts (pwa-node, coreclr, debugpy). The container is removed when the session ends
// unless the configuration says removeContainerAfterDebug: false. A `serverReadyPattern` line in the
// container's log opens the browser at the URL it names.
import * as vscode from 'vscode';
import * as P from '../../../engine/src/protocol';
import { parsePortSpec } from '../../../engine/src/runtime/options';
import { initialConfigurations, plan, type SiloDebugConfiguration } from '../model/debugPlan';
import { DEBUG_TYPE } from '../model/viewIds';
import { waitForListener } from '../model/listenerReady';
import { errorText, type EngineClient } from '../engine/engineClient';

const CONTAINER_KEY = '__siloContainer';
const REMOVE_KEY = '__siloRemove';

export class SiloDebugProvider implements vscode.DebugConfigurationProvider, vscode.Disposable {
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly engine: EngineClient, private readonly siloCli: [string, ...string[]]) {
    this.subs.push(
      vscode.debug.onDidTerminateDebugSession((session) => {
        const id = session.configuration[CONTAINER_KEY];
        if (typeof id === 'string' && session.configuration[REMOVE_KEY] !== false) {
          void this.engine.request(P.ContainerRemoveRequest.type, { id, force: true }).catch(() => undefined);
        }
      }),
    );
  }

  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return initialConfigurations() as unknown as vscode.DebugConfiguration[];
  }

  async resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    if (!config.type && !config.request && !config.name) {
      // F5 with no launch.json: offer to create one with the silo configuration.
      return undefined;
    }
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage('Debugging in a Silo container runs workspace content: trust this workspace first.');
      return undefined;
    }
    const cfg = config as unknown as SiloDebugConfiguration;
    const settings = vscode.workspace.getConfiguration('silo.debug', folder);
    if (cfg.platform === 'netCore') cfg.netCore = { ...cfg.netCore, vsdbgPath: cfg.netCore?.vsdbgPath ?? settings.get<string>('vsdbgPath') ?? undefined };
    if (cfg.platform === 'python') cfg.python = { ...cfg.python, debugpyPath: cfg.python?.debugpyPath ?? settings.get<string>('debugpyPath') ?? undefined };
    const workspaceFolder = folder?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
    try {
      const conn = await this.engine.connection();
      const hostOs = this.engine.info?.os ?? 'linux';
      const p = plan(cfg, {
        workspaceFolder,
        hostOs,
        siloCommand: this.siloCli,
        containerName: `silo-debug-${Date.now().toString(36)}`,
      }, (cfg.ports ?? []).map(parsePortSpec));
      const created = await conn.sendRequest(P.ContainerCreateRequest.type, p.create);
      if (cfg.serverReadyPattern) this.watchServerReady(created.id, cfg.serverReadyPattern);
      await conn.sendRequest(P.ContainerStartRequest.type, { id: created.id });
      // debugpy's attach does not retry: hand over once the debugger in the container listens.
      const connect = p.debugger.connect as { host: string; port: number } | undefined;
      if (cfg.platform === 'python' && connect) await waitForListener(connect.host, connect.port);
      return { ...p.debugger, [CONTAINER_KEY]: created.id, [REMOVE_KEY]: cfg.removeContainerAfterDebug !== false } as unknown as vscode.DebugConfiguration;
    } catch (err) {
      void vscode.window.showErrorMessage(`Silo could not start the container to debug: ${errorText(err)}`);
      return undefined;
    }
  }

  private watchServerReady(id: string, pattern: string): void {
    let re: RegExp;
    try {
      re = new RegExp(pattern);
    } catch {
      void vscode.window.showWarningMessage(`The serverReadyPattern ${pattern} is not a regular expression.`);
      return;
    }
    const token = this.engine.newToken();
    const cts = new vscode.CancellationTokenSource();
    const routing = this.engine.onLines(token, (lines) => {
      for (const l of lines) {
        const m = re.exec(l.log);
        if (!m) continue;
        const url = m[1] && /^https?:/.test(m[1]) ? m[1] : m[1] ? `http://localhost:${m[1]}` : undefined;
        if (url) void vscode.env.openExternal(vscode.Uri.parse(url));
        cts.cancel();
        routing.dispose();
        return;
      }
    });
    void this.engine
      .connection()
      .then((conn) => conn.sendRequest(P.ContainerLogsRequest.type, { id, stream: token, follow: true, awaitStart: true }, cts.token))
      .catch(() => undefined)
      .finally(() => routing.dispose());
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}

export const SILO_DEBUG_TYPE = DEBUG_TYPE;
