// The application shell: login, navigation, and the page for the current route.
import { type ReactElement, Suspense, lazy, useCallback, useEffect, useState } from 'react';
import { type ApiError, type Role, api, setUnauthorizedHandler, toApiError } from './api';
import { ErrorBox } from './components/error-box';
import { JobsPanel } from './components/jobs-panel';
import { CreateGuestPage } from './pages/create-guest';
import { GuestDetailPage } from './pages/guest-detail';
import { GuestsPage } from './pages/guests';
import { HostPage } from './pages/host';
import { LoginPage } from './pages/login';
import { NetworksPage } from './pages/networks';
import { StoragePage } from './pages/storage';
import { href, useRoute } from './router';
import { SessionContext } from './session';
import { guestStore, useGuests } from './store';

// xterm.js is large: the console page loads it on demand.
const ConsolePage = lazy(() => import('./pages/console').then((m) => ({ default: m.ConsolePage })));
const DisplayPage = lazy(() => import('./pages/display').then((m) => ({ default: m.DisplayPage })));

type Session = { role: Role; name?: string } | null | undefined;

export function App() {
  const [session, setSession] = useState<Session>(undefined);
  const [error, setError] = useState<ApiError>();

  const check = useCallback(async () => {
    try {
      // A one-time login link carries its token in the fragment: trade it for a session cookie.
      const m = /^#token=([^&]+)/.exec(location.hash);
      if (m) {
        history.replaceState(null, '', location.pathname);
        try {
          setSession(await api.login(decodeURIComponent(m[1]!)));
          return;
        } catch (e) {
          setError(toApiError(e));
        }
      }
      setSession(await api.session());
    } catch (e) {
      const err = toApiError(e);
      if (err.status !== 401) setError(err);
      setSession(null);
    }
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => setSession(null));
    void check();
    // A login link opened in a tab that already shows the app only changes the fragment.
    const onHash = () => {
      if (location.hash.startsWith('#token=')) void check();
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [check]);

  useEffect(() => {
    if (session) guestStore.start();
    else guestStore.stop();
  }, [session]);

  if (session === undefined) return <p className="loading">Loading…</p>;
  if (session === null)
    return (
      <LoginPage
        initialError={error}
        onLogin={(s) => {
          setError(undefined);
          setSession(s);
        }}
      />
    );
  return (
    <SessionContext.Provider value={session}>
      <Shell
        role={session.role}
        onLogout={async () => {
          await api.logout().catch(() => {});
          setSession(null);
        }}
      />
    </SessionContext.Provider>
  );
}

function Shell({ role, onLogout }: { role: Role; onLogout: () => void }) {
  const route = useRoute();
  const { live } = useGuests();
  const parts = route.split('/').filter(Boolean).map(decodeURIComponent);
  const section = parts[0] ?? 'host';
  let page: ReactElement;
  if (section === 'guests' && parts[1] && parts[2] === 'console')
    page = (
      <Suspense fallback={<p className="loading">Loading the console…</p>}>
        <ConsolePage name={parts[1]} />
      </Suspense>
    );
  else if (section === 'guests' && parts[1] && parts[2] === 'display')
    page = (
      <Suspense fallback={<p className="loading">Loading the display…</p>}>
        <DisplayPage name={parts[1]} />
      </Suspense>
    );
  else if (section === 'guests' && parts[1])
    page = <GuestDetailPage name={parts[1]} tab={parts[2] ?? 'overview'} />;
  else if (section === 'guests') page = <GuestsPage />;
  else if (section === 'create' && role === 'rw') page = <CreateGuestPage />;
  else if (section === 'networks') page = <NetworksPage />;
  else if (section === 'storage') page = <StoragePage selected={parts[1]} />;
  else page = <HostPage />;
  const nav = [
    { id: 'host', label: 'Host', path: '/host' },
    { id: 'guests', label: 'Guests', path: '/guests' },
    { id: 'storage', label: 'Storage', path: '/storage' },
    { id: 'networks', label: 'Networks', path: '/networks' },
    ...(role === 'rw' ? [{ id: 'create', label: 'Create guest', path: '/create' }] : []),
  ];
  return (
    <div className="shell">
      <header>
        <a className="brand" href={href('/host')}>
          tvirt
        </a>
        <nav aria-label="Main">
          {nav.map((n) => (
            <a key={n.id} href={href(n.path)} aria-current={section === n.id ? 'page' : undefined}>
              {n.label}
            </a>
          ))}
        </nav>
        <JobsPanel />
        <span className={live ? 'live on' : 'live'} title="Live updates from the event stream">
          {live ? 'live' : 'offline'}
        </span>
        <span className="role">{role === 'rw' ? 'read-write' : 'read-only'}</span>
        <button type="button" onClick={onLogout}>
          Log out
        </button>
      </header>
      <main>
        <ErrorBoundaryNote />
        {page}
      </main>
    </div>
  );
}

function ErrorBoundaryNote() {
  const { error } = useGuests();
  return <ErrorBox error={error} />;
}
