// The live list of guests: loaded once, then kept current from the event stream (/v1/events).
// Components read it with useGuests(); a reconnect reloads the whole list.
import { useSyncExternalStore } from 'react';
import { ApiError, type DomainSummary, type TvirtEvent, api, toApiError, wsUrl } from './api';

export interface GuestsState {
  loaded: boolean;
  guests: DomainSummary[];
  error: ApiError | undefined;
  /** Whether the event stream is connected (live updates). */
  live: boolean;
}

type Listener = () => void;

class GuestStore {
  private state: GuestsState = { loaded: false, guests: [], error: undefined, live: false };
  private readonly listeners = new Set<Listener>();
  private readonly eventListeners = new Set<(e: TvirtEvent) => void>();
  private ws: WebSocket | undefined;
  private retry = 500;
  private stopped = true;
  private timer: number | undefined;

  get = (): GuestsState => this.state;

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  onEvent(l: (e: TvirtEvent) => void): () => void {
    this.eventListeners.add(l);
    return () => this.eventListeners.delete(l);
  }

  private set(patch: Partial<GuestsState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    // Load at once, and again when the event stream is ready (nothing is missed in between).
    void this.reload();
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.ws?.close();
    this.ws = undefined;
    this.state = { loaded: false, guests: [], error: undefined, live: false };
  }

  async reload(): Promise<void> {
    try {
      const { domains } = await api.domains();
      domains.sort((a, b) => a.name.localeCompare(b.name));
      this.set({ loaded: true, guests: domains, error: undefined });
    } catch (e) {
      this.set({ loaded: true, error: toApiError(e) });
    }
  }

  /** Replaces (or adds) one guest's row, or removes it when it is gone. */
  async refresh(name: string): Promise<void> {
    let d: DomainSummary | undefined;
    try {
      d = await api.domain(name);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'NO_DOMAIN')) return;
    }
    const rest = this.state.guests.filter((g) => g.name !== name && (!d || g.uuid !== d.uuid));
    const guests = d ? [...rest, d].sort((a, b) => a.name.localeCompare(b.name)) : rest;
    this.set({ guests });
  }

  private connect(): void {
    const ws = new WebSocket(wsUrl('/v1/events'));
    this.ws = ws;
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data)) as { type: 'ready' } | { type: 'event'; event: TvirtEvent };
      if (msg.type === 'ready') {
        this.retry = 500;
        this.set({ live: true });
        void this.reload(); // anything missed before subscribing or while disconnected
        return;
      }
      const ev = msg.event;
      if (ev.kind === 'domain-lifecycle') void this.refresh(ev.name);
      for (const l of this.eventListeners) l(ev);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.set({ live: false });
      if (this.stopped) return;
      this.timer = window.setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 10_000);
    };
  }
}

export const guestStore = new GuestStore();

export function useGuests(): GuestsState {
  return useSyncExternalStore(guestStore.subscribe, guestStore.get);
}
