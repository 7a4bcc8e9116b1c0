// The editor's one connection to the engine of the configured data root: started on first need (or
// joined when it already runs), events pushed to the views, reconnected with a visible notice when
// the engine dies. Streams (logs, exec) are routed to their owners by stream token.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { ConnectionError, ErrorCodes, ResponseError, type MessageConnection, type RequestType } from 'vscode-jsonrpc';
import * as P from '../../../engine/src/protocol';
import { connectEngine } from '../../../engine/src/rpc/connect';

export type EngineState = 'stopped' | 'starting' | 'running' | 'restarting' | 'failed';

/** The one sentence a user sees for an engine error, with its hint. */
export function errorText(err: unknown): string {
  if ((err instanceof ResponseError && err.code === ErrorCodes.PendingResponseRejected) || err instanceof ConnectionError) {
    return 'the Silo engine stopped before it answered (it is being restarted; its log is engine.log in the data root)';
  }
  if (err instanceof ResponseError) {
    const hint = (err.data as P.ErrorData | undefined)?.hint;
    return hint ? `${err.message} (${hint})` : err.message;
  }
  if (err instanceof Error) {
    const hint = (err as { hint?: string }).hint;
    return hint ? `${err.message} (${hint})` : err.message;
  }
  return String(err);
}

export class EngineClient implements vscode.Disposable {
  private conn: MessageConnection | undefined;
  private connecting: Promise<MessageConnection> | undefined;
  private readonly streams = new Map<string, (lines: P.LogLine[]) => void>();
  private readonly builds = new Map<string, (event: P.BuildEvent) => void>();
  private readonly layerProgress = new Map<string, (p: P.LayerProgressParams) => void>();
  private eventsToken: string | undefined;
  private disposed = false;
  private restarts = 0;

  private readonly stateEmitter = new vscode.EventEmitter<EngineState>();
  readonly onDidChangeState = this.stateEmitter.event;
  private readonly eventEmitter = new vscode.EventEmitter<P.EngineEvent>();
  /** Engine events (container and image changes), pushed by the engine. */
  readonly onEvent = this.eventEmitter.event;
  private readonly connectedEmitter = new vscode.EventEmitter<MessageConnection>();
  /** Fires after each (re)connect: owners of long streams resume there. */
  readonly onDidConnect = this.connectedEmitter.event;

  state: EngineState = 'stopped';
  info: P.EngineInfo | undefined;

  constructor(
    private readonly dataRoot: () => string,
    private readonly engineScript: string,
    private readonly log: vscode.OutputChannel,
  ) {}

  get root(): string {
    return this.dataRoot();
  }

  private setState(s: EngineState): void {
    this.state = s;
    this.stateEmitter.fire(s);
  }

  /** The connection, starting or joining the engine on first need. */
  connection(): Promise<MessageConnection> {
    if (this.conn) return Promise.resolve(this.conn);
    if (!this.connecting) {
      this.connecting = this.open().finally(() => (this.connecting = undefined));
    }
    return this.connecting;
  }

  private async open(): Promise<MessageConnection> {
    if (this.state !== 'restarting') this.setState('starting');
    const root = this.root;
    this.log.appendLine(`connecting to the engine of ${root}`);
    try {
      const conn = await connectEngine(root, { engineScript: this.engineScript });
      conn.onNotification(P.StreamLinesNotification.type, (p) => this.streams.get(p.stream)?.(p.lines));
      conn.onNotification(P.BuildProgressNotification.type, (p) => this.builds.get(p.stream)?.(p.event));
      conn.onNotification(P.LayerProgressNotification.type, (p) => this.layerProgress.get(p.token)?.(p));
      conn.onNotification(P.EventNotification.type, (p) => {
        if (p.stream === this.eventsToken) this.eventEmitter.fire(p.event);
      });
      conn.onClose(() => this.lost(conn));
      this.conn = conn;
      this.info = await conn.sendRequest(P.EngineInfoRequest.type, {});
      this.log.appendLine(`engine ${this.info.version} pid ${this.info.pid} on ${this.info.os} ${this.info.kernel}`);
      this.subscribeEvents(conn);
      this.restarts = 0;
      this.setState('running');
      this.connectedEmitter.fire(conn);
      return conn;
    } catch (err) {
      this.conn = undefined;
      this.setState('failed');
      this.log.appendLine(`engine: ${errorText(err)}`);
      throw err;
    }
  }

  private subscribeEvents(conn: MessageConnection): void {
    const token = this.newToken();
    this.eventsToken = token;
    conn.sendRequest(P.EventsSubscribeRequest.type, { stream: token }).catch(() => undefined);
  }

  /** The engine went away: tell the user, start a new one, resume. */
  private lost(conn: MessageConnection): void {
    if (this.conn !== conn || this.disposed) return;
    this.conn = undefined;
    this.info = undefined;
    this.restarts++;
    this.log.appendLine('the engine connection closed');
    if (this.restarts > 3) {
      this.setState('failed');
      void vscode.window.showErrorMessage(`The Silo engine stopped ${this.restarts} times in a row; see ${this.root}/engine.log.`, 'Restart').then((pick) => {
        if (pick) {
          this.restarts = 0;
          void this.connection();
        }
      });
      return;
    }
    this.setState('restarting');
    void vscode.window.showWarningMessage('The Silo engine stopped; starting it again. Running containers are not affected.');
    setTimeout(() => void this.connection().catch(() => undefined), 500 * this.restarts);
  }

  async request<Params, Result>(type: RequestType<Params, Result, void>, params: Params): Promise<Result> {
    const conn = await this.connection();
    // The generic overloads of sendRequest do not narrow on a generic RequestType; the method is what counts.
    return conn.sendRequest<Result>(type.method, params);
  }

  newToken(): string {
    return randomBytes(8).toString('hex');
  }

  /** Routes the stream's lines to `handler` until the returned disposable is disposed. */
  onLines(token: string, handler: (lines: P.LogLine[]) => void): vscode.Disposable {
    this.streams.set(token, handler);
    return new vscode.Disposable(() => this.streams.delete(token));
  }

  /** Routes a build's progress events to `handler` until disposed. */
  onBuildProgress(token: string, handler: (event: P.BuildEvent) => void): vscode.Disposable {
    this.builds.set(token, handler);
    return new vscode.Disposable(() => this.builds.delete(token));
  }

  /** Routes a pull's or push's per-layer progress to `handler` until disposed. */
  onLayerProgress(token: string, handler: (p: P.LayerProgressParams) => void): vscode.Disposable {
    this.layerProgress.set(token, handler);
    return new vscode.Disposable(() => this.layerProgress.delete(token));
  }

  async sendInput(input: P.StreamInput): Promise<void> {
    const conn = await this.connection();
    await conn.sendNotification(P.StreamInputNotification.type, input);
  }

  /** Drops the connection (the engine keeps running); the next request reconnects. */
  reset(): void {
    const c = this.conn;
    this.conn = undefined;
    this.info = undefined;
    c?.dispose();
    this.setState('stopped');
  }

  dispose(): void {
    this.disposed = true;
    this.conn?.dispose();
    this.stateEmitter.dispose();
    this.eventEmitter.dispose();
    this.connectedEmitter.dispose();
  }
}
