// The event bus: delivers TvirtEvents to every subscriber; a failing subscriber never stops the others.
import type { TvirtEvent } from '../drivers/connection.js';

export type EventListener = (ev: TvirtEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();
  private readonly onListenerError: (e: unknown) => void;

  constructor(onListenerError: (e: unknown) => void = () => {}) {
    this.onListenerError = onListenerError;
  }

  /** Subscribes; returns the function that unsubscribes (idempotent). */
  subscribe(listener: EventListener): () => void {
    // Wrap so the same function may subscribe twice and unsubscribe independently.
    const entry: EventListener = (ev) => listener(ev);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Delivers synchronously, in subscription order, to a snapshot of the subscribers. */
  emit(ev: Omit<TvirtEvent, 'timestamp'> & { timestamp?: number }): void {
    const full: TvirtEvent = { ...ev, timestamp: ev.timestamp ?? Date.now() };
    for (const l of [...this.listeners]) {
      try {
        l(full);
      } catch (e) {
        this.onListenerError(e);
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
