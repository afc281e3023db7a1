// A tiny hash router: #/guests, #/guests/NAME, #/guests/NAME/console ... (no server-side routes needed).
import { useSyncExternalStore } from 'react';

function subscribe(cb: () => void): () => void {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
}

/** The route path, e.g. '/guests/test' ('' for the start page). */
export function useRoute(): string {
  return useSyncExternalStore(subscribe, () => location.hash.replace(/^#/, '').split('?')[0] ?? '');
}

export function href(path: string): string {
  return `#${path}`;
}

export function navigate(path: string): void {
  location.hash = path;
}

export function guestPath(name: string, tab?: string): string {
  return `/guests/${encodeURIComponent(name)}${tab ? `/${tab}` : ''}`;
}
