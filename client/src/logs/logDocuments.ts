// Live log views: one read-only document per container (silo-log:/<name>.silo-log?id=<id>), fed by
// the engine's log stream and coloured by syntaxes/silo-log.tmLanguage.json. Searchable with the
// editor's own Find; follow keeps the end in sight; timestamps on demand; after an engine restart the
// stream resumes at the last line's cursor, so no line is lost or repeated.
import * as vscode from 'vscode';
import * as P from '../../../engine/src/protocol';
import { LogBuffer } from '../model/logFormat';
import { LOG_LANGUAGE, SCHEME_LOGS } from '../model/viewIds';
import { errorText, type EngineClient } from '../engine/engineClient';

interface LogSession {
  id: string;
  buffer: LogBuffer;
  timestamps: boolean;
  follow: boolean;
  token?: string;
  routing?: vscode.Disposable;
  request?: vscode.CancellationTokenSource;
  ended: boolean;
  error?: string;
}

export class LogDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly sessions = new Map<string, LogSession>();
  private readonly pending = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly subs: vscode.Disposable[];

  constructor(private readonly engine: EngineClient) {
    this.subs = [
      engine.onDidConnect(() => {
        // A new engine: resume every open stream after its last line.
        for (const [key, s] of this.sessions) if (!s.ended) this.stream(vscode.Uri.parse(key), s);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (doc.uri.scheme === SCHEME_LOGS) this.close(doc.uri);
      }),
    ];
  }

  static uriFor(id: string, name: string): vscode.Uri {
    return vscode.Uri.from({ scheme: SCHEME_LOGS, path: `/${name}.silo-log`, query: `id=${id}` });
  }

  async show(id: string, name: string): Promise<vscode.TextEditor> {
    const uri = LogDocuments.uriFor(id, name);
    const doc = await vscode.workspace.openTextDocument(uri);
    if (doc.languageId !== LOG_LANGUAGE) await vscode.languages.setTextDocumentLanguage(doc, LOG_LANGUAGE);
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    this.reveal(uri);
    return editor;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const key = uri.toString();
    let s = this.sessions.get(key);
    if (!s) {
      const id = new URLSearchParams(uri.query).get('id') ?? '';
      s = { id, buffer: new LogBuffer(), timestamps: false, follow: true, ended: false };
      this.sessions.set(key, s);
      this.stream(uri, s);
    }
    let text = s.buffer.render({ timestamps: s.timestamps });
    if (s.error) text += `-- ${s.error}\n`;
    else if (s.ended) text += '-- the container stopped; the log ends here\n';
    return text;
  }

  private stream(uri: vscode.Uri, s: LogSession): void {
    s.routing?.dispose();
    s.request?.cancel();
    const token = this.engine.newToken();
    s.token = token;
    s.routing = this.engine.onLines(token, (lines) => {
      s.buffer.append(lines);
      this.schedule(uri);
    });
    const cts = new vscode.CancellationTokenSource();
    s.request = cts;
    void this.engine
      .connection()
      .then((conn) => conn.sendRequest(P.ContainerLogsRequest.type, { id: s.id, stream: token, follow: true, cursor: s.buffer.cursor }, cts.token))
      .then(
        () => {
          if (s.token !== token) return;
          s.ended = true;
          this.schedule(uri);
        },
        (err: unknown) => {
          if (s.token !== token || cts.token.isCancellationRequested) return;
          // A closed connection resumes on reconnect; anything else is shown at the end of the log.
          if (this.engine.state === 'running') {
            s.error = errorText(err);
            this.schedule(uri);
          }
        },
      );
  }

  private schedule(uri: vscode.Uri): void {
    this.pending.add(uri.toString());
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      for (const key of this.pending) {
        const u = vscode.Uri.parse(key);
        this.changed.fire(u);
        setTimeout(() => this.reveal(u), 50);
      }
      this.pending.clear();
    }, 100);
  }

  private reveal(uri: vscode.Uri): void {
    const s = this.sessions.get(uri.toString());
    if (!s?.follow) return;
    for (const e of vscode.window.visibleTextEditors) {
      if (e.document.uri.toString() !== uri.toString()) continue;
      const last = e.document.lineCount - 1;
      e.revealRange(new vscode.Range(last, 0, last, 0), vscode.TextEditorRevealType.Default);
    }
  }

  private sessionOf(uri: vscode.Uri | undefined): [vscode.Uri, LogSession] | undefined {
    const u = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!u || u.scheme !== SCHEME_LOGS) return undefined;
    const s = this.sessions.get(u.toString());
    return s ? [u, s] : undefined;
  }

  toggleTimestamps(uri?: vscode.Uri): void {
    const found = this.sessionOf(uri);
    if (!found) return;
    found[1].timestamps = !found[1].timestamps;
    this.changed.fire(found[0]);
  }

  toggleFollow(uri?: vscode.Uri): boolean | undefined {
    const found = this.sessionOf(uri);
    if (!found) return undefined;
    found[1].follow = !found[1].follow;
    this.reveal(found[0]);
    return found[1].follow;
  }

  private close(uri: vscode.Uri): void {
    const s = this.sessions.get(uri.toString());
    if (!s) return;
    s.token = undefined;
    s.request?.cancel();
    s.routing?.dispose();
    this.sessions.delete(uri.toString());
  }

  dispose(): void {
    for (const key of [...this.sessions.keys()]) this.close(vscode.Uri.parse(key));
    clearTimeout(this.flushTimer);
    this.changed.dispose();
    for (const s of this.subs) s.dispose();
  }
}
