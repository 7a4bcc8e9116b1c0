// ONE registered completion callback and ONE registered event callback for the whole process,
// dispatching by a numeric context id (hcsshim internal/hcs/v2/notification.go: a number into a map,
// never a live object). koffi allows 8192 registered callbacks, and a registered one must outlive
// every HcsClose* that could still call it, so per-handle registrations would be both scarce and
// fragile. When HCS calls from its own thread, koffi parks that thread until the JS function has run
// on the main thread, so pointers in the event are valid while the handler runs, and the main thread
// must never block in a synchronous call that waits for a callback (hence `.async` for Close*).
import { hcsTypes, koffi } from './types';

export type CompletionHandler = (operation: unknown) => void;
export type EventHandler = (type: number, data: string | undefined, operation: unknown) => void;

export class CallbackHub {
  private nextId = 1;
  private readonly completions = new Map<number, CompletionHandler>();
  private readonly events = new Map<number, EventHandler>();
  /** Pass as HCS_OPERATION_COMPLETION. */
  readonly completion: bigint;
  /** Pass as HCS_EVENT_CALLBACK. */
  readonly event: bigint;

  constructor() {
    const t = hcsTypes();
    this.completion = koffi.register((operation: unknown, context: unknown) => {
      const id = Number(context ?? 0);
      const handler = this.completions.get(id);
      this.completions.delete(id);
      try {
        handler?.(operation);
      } catch {
        // An exception here would be swallowed by koffi; handlers report through their promises.
      }
    }, koffi.pointer(t.HCS_OPERATION_COMPLETION));
    this.event = koffi.register((eventPtr: unknown, context: unknown) => {
      const handler = this.events.get(Number(context ?? 0));
      if (!handler || !eventPtr) return;
      try {
        const ev = koffi.decode(eventPtr, t.HCS_EVENT) as { Type: number; EventData: unknown; Operation: unknown };
        const data = ev.EventData ? koffi.decode.string16(ev.EventData) : undefined;
        handler(ev.Type >>> 0, data, ev.Operation);
      } catch {
        // see above
      }
    }, koffi.pointer(t.HCS_EVENT_CALLBACK));
  }

  /** A one-shot completion context; the handler runs once, on the main thread. */
  expectCompletion(handler: CompletionHandler): bigint {
    const id = this.nextId++;
    this.completions.set(id, (op) => {
      this.keepAlive();
      handler(op);
    });
    this.keepAlive();
    return BigInt(id);
  }

  /** Drops a completion that will never come (the call that would start it failed). */
  cancelCompletion(context: bigint): void {
    this.completions.delete(Number(context));
    this.keepAlive();
  }

  /** An event context for one system or process handle; forget it only after that handle is closed. */
  listen(handler: EventHandler): bigint {
    const id = this.nextId++;
    this.events.set(id, handler);
    this.keepAlive();
    return BigInt(id);
  }

  forget(context: bigint): void {
    this.events.delete(Number(context));
    this.keepAlive();
  }

  /**
   * koffi delivers foreign-thread calls through a threadsafe function that does not hold the event
   * loop open, so Node would exit (and HCS would call into a dead process) while an operation is in
   * flight or a handle is open. A ref'd timer holds it open exactly that long.
   */
  private keepAlive(): void {
    const busy = this.completions.size > 0 || this.events.size > 0;
    if (busy && !this.alive) this.alive = setInterval(() => undefined, 1 << 30);
    else if (!busy && this.alive) {
      clearInterval(this.alive);
      this.alive = undefined;
    }
  }
  private alive: NodeJS.Timeout | undefined;

  get pending(): { completions: number; listeners: number } {
    return { completions: this.completions.size, listeners: this.events.size };
  }
}

let hub: CallbackHub | undefined;

/** The process-wide hub, registered on first use and never unregistered (HCS may call it until exit). */
export function callbackHub(): CallbackHub {
  return (hub ??= new CallbackHub());
}
