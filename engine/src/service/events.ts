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

  /** The last events, oldest first: `docker events --since` replays them (Docker keeps 256 too). */
  private readonly history: EngineEvent[] = [];

  emit(type: EngineEvent['type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    const ns = BigInt(Date.now()) * 1_000_000n;
    const event = { type, action, id, attributes, time: Math.floor(Date.now() / 1000), timeNano: Number(ns) };
    this.history.push(event);
    if (this.history.length > 256) this.history.shift();
    this.emitter.fire(event);
  }

  recent(): readonly EngineEvent[] {
    return this.history;
  }
}
