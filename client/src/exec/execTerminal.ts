// An interactive shell in a running container: a Pseudoterminal over the engine's exec with a TTY,
// keyboard as stream input and terminal resizes forwarded.
import * as vscode from 'vscode';
import * as P from '../../../engine/src/protocol';
import { errorText, type EngineClient } from '../engine/engineClient';

export function execPseudoterminal(engine: EngineClient, id: string, cmd: string[]): vscode.Pseudoterminal {
  const write = new vscode.EventEmitter<string>();
  const close = new vscode.EventEmitter<number | void>();
  const token = engine.newToken();
  let routing: vscode.Disposable | undefined;
  const cts = new vscode.CancellationTokenSource();
  return {
    onDidWrite: write.event,
    onDidClose: close.event,
    open(dims) {
      routing = engine.onLines(token, (lines) => {
        for (const l of lines) write.fire(l.log);
      });
      const consoleSize = dims ? { rows: dims.rows, cols: dims.columns } : undefined;
      engine
        .connection()
        .then((conn) => conn.sendRequest(P.ExecRequest.type, { id, stream: token, cmd, tty: true, stdin: true, consoleSize }, cts.token))
        .then(
          (exit) => {
            write.fire(`\r\n[process exited with code ${exit.exitCode}]\r\n`);
            close.fire(exit.exitCode);
          },
          (err: unknown) => {
            write.fire(`\r\n${errorText(err)}\r\n`);
            close.fire(1);
          },
        )
        .finally(() => routing?.dispose());
    },
    handleInput(data) {
      void engine.sendInput({ stream: token, data: Buffer.from(data, 'utf8').toString('base64') });
    },
    setDimensions(dims) {
      void engine.sendInput({ stream: token, resize: { rows: dims.rows, cols: dims.columns } });
    },
    close() {
      void engine.sendInput({ stream: token, close: true });
      cts.cancel();
      routing?.dispose();
    },
  };
}

/** The shell to start: cmd.exe in Windows containers, /bin/sh elsewhere (present in busybox and Debian alike). */
export function shellFor(os: string | undefined): string[] {
  return os === 'windows' ? ['cmd.exe'] : ['/bin/sh'];
}
