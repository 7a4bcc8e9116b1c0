// A process in a compute system (hcsshim internal/hcs/v2/process.go). Its exit is signalled once:
// by the ProcessExited event, or by the one HcsGetProcessProperties made right after the callback is
// registered (whether HCS delivers an exit that happened before registration is UNCONFIRMED, hcs.md
// §1.4), whichever comes first. Close order: close the handle off the main thread, then forget.
import { GENERIC_ALL, HCS_EVENT_OPTION_NONE, HcsEventType } from '../bindings/computecore';
import { exitCodeOf, parseProcessStatus, type ProcessStatus } from '../documents/results';
import { closeStdinRequest, resizeConsoleRequest } from '../documents/processModify';
import { windowsSignal } from '../documents/signalProcess';
import { failed, hcsError, isAlreadyStopped, HcsError, HR } from '../hresult';
import { callAsync, type HcsApi } from './api';
import { runOperation, type ProcessInformation } from './operation';
import { stdioStreams, type ProcessStdio } from './stdio';

export interface ProcessExit {
  /** Undefined when HCS could not tell (Docker then reports -1). */
  exitCode: number | undefined;
  status: ProcessStatus | undefined;
}

export class HcsProcess {
  readonly pid: number;
  readonly exited: Promise<ProcessExit>;
  private resolveExit!: (e: ProcessExit) => void;
  private exitSeen = false;
  private closed: Promise<void> | undefined;
  private readonly context: bigint;

  private constructor(
    private readonly api: HcsApi,
    private readonly handle: unknown,
    readonly info: ProcessInformation,
    private readonly label: string,
  ) {
    this.pid = info.ProcessId;
    this.exited = new Promise((r) => (this.resolveExit = r));
    this.context = api.hub.listen((type, data) => {
      if (type === HcsEventType.ProcessExited) this.finish(parseProcessStatus(data));
      else if (type === HcsEventType.ServiceDisconnect) this.finish(undefined);
    });
  }

  /** Creates the process; `system` is the HCS_SYSTEM handle. */
  static async create(api: HcsApi, system: unknown, parameters: object, label: string): Promise<HcsProcess> {
    const out: unknown[] = [null];
    const what = `start a process in ${label}`;
    let info: ProcessInformation | undefined;
    try {
      info = (await runOperation(api, what, (op) => api.core.HcsCreateProcess(system, JSON.stringify(parameters), op, null, out), { processInfo: true })).processInfo;
    } catch (err) {
      // hcsshim hcs/v2/system.go: the wait can fail spuriously on process isolation while a valid
      // handle came back; the stdio handles are then recovered with HcsGetProcessInfo.
      if (!out[0]) throw err;
      try {
        info = (await runOperation(api, what, (op) => api.core.HcsGetProcessInfo(out[0], op), { processInfo: true })).processInfo;
      } catch {
        await callAsync(api.core.HcsCloseProcess, out[0]);
        throw err;
      }
    }
    return HcsProcess.watch(api, out[0], info!, label);
  }

  /**
   * Opens a process of `system` by id (hcsshim OpenProcess), for a holder that lost its handle. Its
   * stdio stays unknown: the pipes belonged to whoever created it.
   */
  static async open(api: HcsApi, system: unknown, pid: number, label: string): Promise<HcsProcess> {
    const what = `open process ${pid} in ${label}`;
    if (!api.core.HcsOpenProcess) throw hcsError(what, HR.E_NOTIMPL);
    const out: unknown[] = [null];
    const hr = api.core.HcsOpenProcess(system, pid, GENERIC_ALL, out) as number;
    if (failed(hr)) throw hcsError(what, hr);
    return HcsProcess.watch(api, out[0], { ProcessId: pid, StdInput: null, StdOutput: null, StdError: null }, label);
  }

  private static async watch(api: HcsApi, handle: unknown, info: ProcessInformation, label: string): Promise<HcsProcess> {
    const proc = new HcsProcess(api, handle, info, label);
    const hr = api.core.HcsSetProcessCallback(handle, HCS_EVENT_OPTION_NONE, proc.context, api.hub.event) as number;
    if (failed(hr)) {
      await proc.close();
      throw hcsError(`watch a process in ${label}`, hr);
    }
    void proc.checkExited();
    return proc;
  }

  /** The stdio pipes as Node streams; call once. */
  stdio(): ProcessStdio {
    return stdioStreams(this.info);
  }

  /** A POSIX signal, as a console event or termination (documents/signalProcess). Not awaited to the end: servercore blocks the call until the target exits (hcsshim bug 36689012). */
  async signal(signal: string | number): Promise<void> {
    const s = windowsSignal(signal);
    if (s.kind === 'terminate') return this.terminate();
    await this.ignoreStopped(runOperation(this.api, `signal a process in ${this.label}`, (op) => this.api.core.HcsSignalProcess(this.handle, op, JSON.stringify(s.options)), { acceptedOnly: true }));
  }

  async terminate(): Promise<void> {
    await this.ignoreStopped(runOperation(this.api, `kill a process in ${this.label}`, (op) => this.api.core.HcsTerminateProcess(this.handle, op, null)));
  }

  async resizeConsole(height: number, width: number): Promise<void> {
    await runOperation(this.api, `resize the console in ${this.label}`, (op) => this.api.core.HcsModifyProcess(this.handle, op, JSON.stringify(resizeConsoleRequest(height, width))));
  }

  async closeStdin(): Promise<void> {
    await this.ignoreStopped(runOperation(this.api, `close stdin in ${this.label}`, (op) => this.api.core.HcsModifyProcess(this.handle, op, JSON.stringify(closeStdinRequest()))));
  }

  /** Closes the handle (off the main thread: it waits for callbacks in flight), then forgets the context. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await callAsync(this.api.core.HcsCloseProcess, this.handle);
      this.api.hub.forget(this.context);
      this.finish(undefined);
    })();
    return this.closed;
  }

  private async checkExited(): Promise<void> {
    try {
      const r = await runOperation(this.api, `query a process in ${this.label}`, (op) => this.api.core.HcsGetProcessProperties(this.handle, op, null));
      const status = parseProcessStatus(r.document);
      if (status?.Exited) this.finish(status);
    } catch {
      // The event remains the way to learn of the exit.
    }
  }

  private finish(status: ProcessStatus | undefined): void {
    if (this.exitSeen) return;
    this.exitSeen = true;
    this.resolveExit({ exitCode: exitCodeOf(status), status });
  }

  private async ignoreStopped(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      if (err instanceof HcsError && isAlreadyStopped(err.hr)) return;
      throw err;
    }
  }
}
