// Tasks `silo-run` and `silo-build`: CustomExecution + Pseudoterminal, streaming what the engine does.
// silo-run creates the container, follows its log from the start and ends with its exit code.
// silo-build sends a build request and puts a failure on the Dockerfile line of the failing step.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ErrorCodes, ResponseError } from 'vscode-jsonrpc';
import * as P from '../../../engine/src/protocol';
import { createParamsFromTask, type RunTaskDefinition } from '../model/runOptions';
import { TASK_BUILD, TASK_RUN } from '../model/viewIds';
import { errorText, type EngineClient } from '../engine/engineClient';

function lineOut(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

function runTerminal(engine: EngineClient, def: RunTaskDefinition, folder: string | undefined): vscode.Pseudoterminal {
  const write = new vscode.EventEmitter<string>();
  const close = new vscode.EventEmitter<number | void>();
  const cts = new vscode.CancellationTokenSource();
  let containerId: string | undefined;
  return {
    onDidWrite: write.event,
    onDidClose: close.event,
    open() {
      void (async () => {
        const token = engine.newToken();
        const routing = engine.onLines(token, (lines) => {
          for (const l of lines) write.fire(lineOut(l.stream === 'stderr' ? `\x1b[31m${l.log}\x1b[0m` : l.log));
        });
        try {
          const params = createParamsFromTask(def, { workspaceFolder: folder, env: process.env });
          const conn = await engine.connection();
          write.fire(`\x1b[2m> silo run ${def.image}${params.name ? ` --name ${params.name}` : ''}\x1b[0m\r\n`);
          const created = await conn.sendRequest(P.ContainerCreateRequest.type, params);
          containerId = created.id;
          const logs = conn.sendRequest(P.ContainerLogsRequest.type, { id: created.id, stream: token, follow: true, awaitStart: true }, cts.token);
          await conn.sendRequest(P.ContainerStartRequest.type, { id: created.id });
          write.fire(`\x1b[2m> started ${created.name} (${created.id.slice(0, 12)})\x1b[0m\r\n`);
          const exit = await conn.sendRequest(P.ContainerWaitRequest.type, { id: created.id });
          await logs.catch(() => undefined);
          write.fire(`\r\n\x1b[2m> ${created.name} exited with code ${exit.exitCode}\x1b[0m\r\n`);
          close.fire(exit.exitCode);
        } catch (err) {
          write.fire(`\x1b[31m${lineOut(errorText(err))}\x1b[0m\r\n`);
          close.fire(1);
        } finally {
          routing.dispose();
        }
      })();
    },
    close() {
      cts.cancel();
      // Closing the task's terminal stops its container, as ending `docker run` in a terminal does.
      if (containerId) void engine.request(P.ContainerStopRequest.type, { id: containerId }).catch(() => undefined);
    },
  };
}

/** The `silo-build` task definition's properties (the manifest's `taskDefinitions` schema). */
export interface BuildTaskDefinition {
  type: 'silo-build';
  /** The build context, relative to the workspace folder (default "."). */
  context?: string;
  /** The Dockerfile, relative to the workspace folder (default <context>/Dockerfile). */
  dockerfile?: string;
  tag?: string;
  target?: string;
  buildArgs?: Record<string, string>;
  noCache?: boolean;
  pull?: boolean;
}

/** Told of each successful build: its Dockerfile and result (cache hints for the language server, view refresh). */
export type BuildListener = (dockerfile: string, result: P.BuildResult) => void;

function buildTerminal(engine: EngineClient, def: BuildTaskDefinition, folder: string | undefined, onBuilt: BuildListener): vscode.Pseudoterminal {
  const write = new vscode.EventEmitter<string>();
  const close = new vscode.EventEmitter<number | void>();
  const cts = new vscode.CancellationTokenSource();
  return {
    onDidWrite: write.event,
    onDidClose: close.event,
    open() {
      void (async () => {
        const base = folder ?? process.cwd();
        const context = path.resolve(base, def.context ?? '.');
        const dockerfile = path.resolve(base, def.dockerfile ?? path.join(def.context ?? '.', 'Dockerfile'));
        const token = engine.newToken();
        let current: P.BuildStep | undefined;
        const routing = engine.onBuildProgress(token, (e) => {
          if (e.kind === 'step') {
            current = e.step;
            write.fire(`\x1b[1mStep ${e.step.step}/${e.step.total} : ${e.step.instruction}\x1b[0m\r\n`);
          } else if (e.kind === 'cache') write.fire(e.cached ? ' ---> Using cache\r\n' : `\x1b[2m ---> ${e.reason ?? 'not cached'}\x1b[0m\r\n`);
          else if (e.kind === 'output') write.fire(lineOut(e.stream === 'stderr' ? `\x1b[31m${e.text}\x1b[0m` : e.text));
          else if (e.kind === 'image') write.fire(` ---> ${e.id.replace(/^sha256:/, '').slice(0, 12)}\r\n`);
          else if (e.kind === 'warning') write.fire(`\x1b[33m${lineOut(e.text)}\x1b[0m\r\n`);
        });
        try {
          const conn = await engine.connection();
          write.fire(`\x1b[2m> silo build ${def.tag ? `-t ${def.tag} ` : ''}-f ${dockerfile} ${context}\x1b[0m\r\n`);
          const result = await conn.sendRequest(
            P.BuildRequest.type,
            { stream: token, context, dockerfile, tags: def.tag ? [def.tag] : undefined, target: def.target, buildArgs: def.buildArgs, noCache: def.noCache, pull: def.pull },
            cts.token,
          );
          onBuilt(result.dockerfile || dockerfile, result);
          write.fire(`Successfully built ${result.id.replace(/^sha256:/, '').slice(0, 12)}\r\n${result.tags.map((t) => `Successfully tagged ${t}\r\n`).join('')}`);
          close.fire(0);
        } catch (err) {
          if (err instanceof ResponseError && err.code === ErrorCodes.MethodNotFound) {
            write.fire('silo-build: this Silo engine cannot build images yet (it does not answer build requests); update the engine.\r\n');
          } else {
            // `<file>:<line>: error: <message>` is what the $silo-build problem matcher reads.
            // The builder's message may already start with "<file>:<line>: ": keep the sentence only.
            const message = errorText(err).replace(/^\S*:\d+: /, '');
            write.fire(`${dockerfile}:${current ? current.line + 1 : 1}: error: ${message}\r\n`);
          }
          close.fire(1);
        } finally {
          routing.dispose();
        }
      })();
    },
    close() {
      cts.cancel();
    },
  };
}

export class SiloTaskProvider implements vscode.TaskProvider {
  constructor(private readonly engine: EngineClient, private readonly onBuilt: BuildListener) {}

  provideTasks(): vscode.Task[] {
    return [];
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const def = task.definition;
    const folder = typeof task.scope === 'object' ? task.scope.uri.fsPath : undefined;
    if (def.type === TASK_RUN) {
      return new vscode.Task(def, task.scope ?? vscode.TaskScope.Workspace, task.name, 'silo', new vscode.CustomExecution(async () => runTerminal(this.engine, def as RunTaskDefinition, folder)), task.problemMatchers);
    }
    if (def.type === TASK_BUILD) {
      return new vscode.Task(def, task.scope ?? vscode.TaskScope.Workspace, task.name, 'silo', new vscode.CustomExecution(async () => buildTerminal(this.engine, def as BuildTaskDefinition, folder, this.onBuilt)), task.problemMatchers);
    }
    return undefined;
  }
}
