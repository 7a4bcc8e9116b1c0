// The engine's event stream (docker events): pushed to every subscriber, never polled.
import { Emitter } from 'vscode-jsonrpc';

export interface EngineEvent {
  type: 'container' | 'image';
  action: string; // create, start, die, stop, kill, destroy, exec_start, exec_die, commit; import, load, tag, untag, delete
  id: string;
  attributes: Record<string, string>;
  time: number; // Unix seconds
  timeNano: number;
}

export class EventBus {
  private readonly emitter = new Emitter<EngineEvent>();
  readonly onEvent = this.emitter.event;

  emit(type: EngineEvent['type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    const ns = BigInt(Date.now()) * 1_000_000n;
    this.emitter.fire({ type, action, id, attributes, time: Math.floor(Date.now() / 1000), timeNano: Number(ns) });
  }
}
