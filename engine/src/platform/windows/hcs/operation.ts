// One HCS operation per call (hcsshim internal/hcs/v2/operation.go): create the operation with the
// shared completion callback, make the call, and let the completion fetch the result document, free
// it, and close the operation (allowed inside the callback, OperationCompletionSample.md). A call in
// flight is never abandoned: a caller's timeout rejects its promise, but the operation stays owned
// until HCS completes it (hcsshim computecore.go records the access violation abandoning caused).
import { takeString } from '../bindings/kernel32';
import { failed, hcsError, HR } from '../hresult';
import type { HcsApi } from './api';

export interface ProcessInformation {
  ProcessId: number;
  StdInput: unknown;
  StdOutput: unknown;
  StdError: unknown;
}

export interface OperationResult {
  document?: string;
  processInfo?: ProcessInformation;
}

export interface OperationOptions {
  /** Fetch HCS_PROCESS_INFORMATION with the result (HcsCreateProcess, HcsGetProcessInfo). */
  processInfo?: boolean;
  /** Reject after this long; the operation itself is still seen through to its completion. */
  timeoutMs?: number;
  /** Resolve as soon as HCS accepted the call; the result is then only used to close the operation. */
  acceptedOnly?: boolean;
}

export function runOperation(api: HcsApi, what: string, call: (operation: unknown) => number, opts: OperationOptions = {}): Promise<OperationResult> {
  const { core, hub } = api;
  return new Promise<OperationResult>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      fn();
    };
    const context = hub.expectCompletion((operation) => {
      const doc: unknown[] = [null];
      let hr: number;
      let processInfo: ProcessInformation | undefined;
      if (opts.processInfo) {
        const pi = {} as ProcessInformation;
        hr = core.HcsGetOperationResultAndProcessInfo(operation, pi, doc) as number;
        processInfo = pi;
      } else {
        hr = core.HcsGetOperationResult(operation, doc) as number;
      }
      const document = takeString(doc[0], api.free);
      core.HcsCloseOperation(operation);
      settle(() => (failed(hr) ? reject(hcsError(what, hr, document)) : resolve({ document, processInfo })));
    });
    const operation = core.HcsCreateOperation(context, hub.completion);
    if (!operation) {
      hub.cancelCompletion(context);
      settle(() => reject(hcsError(what, 0x8007000e))); // E_OUTOFMEMORY: the documented NULL return
      return;
    }
    let hr: number;
    try {
      hr = call(operation);
    } catch (err) {
      hr = -1;
      hub.cancelCompletion(context);
      core.HcsCloseOperation(operation);
      settle(() => reject(err));
      return;
    }
    if (failed(hr)) {
      // Rejected before it started: no completion will come, so the operation is ours to close now.
      hub.cancelCompletion(context);
      core.HcsCloseOperation(operation);
      settle(() => reject(hcsError(what, hr)));
      return;
    }
    if (opts.acceptedOnly) settle(() => resolve({}));
    else if (opts.timeoutMs !== undefined) timer = setTimeout(() => settle(() => reject(hcsError(what, HR.OPERATION_TIMEOUT))), opts.timeoutMs);
  });
}
