// The graphical console: noVNC over the VNC WebSocket proxy of tvirtd (one connection per viewer,
// shared, so several people can watch), with scaling, Ctrl+Alt+Del and paste-as-keystrokes.
import RFB from '@novnc/novnc';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { type ApiError, api, toApiError, wsUrl } from '../api';
import { ErrorBox } from '../components/error-box';
import { isActive } from '../components/state';
import { guestPath, href } from '../router';

const XK_SHIFT_L = 0xffe1;
const XK_RETURN = 0xff0d;
const XK_TAB = 0xff09;
/** Control and Alt, left and right, with their key codes: released in the guest on Ctrl+Alt. */
const MODIFIERS: [number, string][] = [
  [0xffe3, 'ControlLeft'],
  [0xffe4, 'ControlRight'],
  [0xffe9, 'AltLeft'],
  [0xffea, 'AltRight'],
];
const SHIFTED = /[A-Z~!@#$%^&*()_+{}|:"<>?]/;

/** The X keysym of a character (Latin-1 maps to itself, the rest to 0x01000000 + code point). */
function keysym(ch: string): number {
  if (ch === '\n') return XK_RETURN;
  if (ch === '\t') return XK_TAB;
  const cp = ch.codePointAt(0)!;
  return cp < 0x100 ? cp : 0x01000000 + cp;
}

export function DisplayPage({ name }: { name: string }) {
  const screen = useRef<HTMLDivElement>(null);
  const rfbRef = useRef<RFB | undefined>(undefined);
  const releaseTo = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState('Connecting…');
  const [connected, setConnected] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [scale, setScale] = useState(true);
  const [needPassword, setNeedPassword] = useState(false);
  const [password, setPassword] = useState('');
  const [paste, setPaste] = useState('');
  const [attempt, setAttempt] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` is the Reconnect button's trigger
  useEffect(() => {
    let disposed = false;
    setConnected(false);
    setError(undefined);
    setStatus('Connecting…');
    // A browser does not show why a WebSocket handshake failed: ask the API first.
    api.domain(name).then(
      (d) => {
        if (disposed) return;
        if (!isActive(d.state)) {
          setStatus(`Disconnected: ${name} is ${d.state}: start it to see its display`);
          return;
        }
        const rfb = new RFB(screen.current!, wsUrl(`/v1/domains/${encodeURIComponent(name)}/vnc`), {
          shared: true,
        });
        rfb.scaleViewport = true;
        rfb.background = '#000';
        rfb.addEventListener('connect', () => {
          setConnected(true);
          setStatus('Connected');
          rfb.focus();
        });
        rfb.addEventListener('disconnect', (e) => {
          setConnected(false);
          if (disposed) return;
          const clean = (e as CustomEvent<{ clean: boolean }>).detail.clean;
          setStatus(
            clean
              ? 'Disconnected'
              : 'Disconnected: the display could not be reached (does the guest have VNC graphics?)',
          );
        });
        rfb.addEventListener('credentialsrequired', () => setNeedPassword(true));
        rfb.addEventListener('securityfailure', (e) => {
          const d = (e as CustomEvent<{ status: number; reason?: string }>).detail;
          setStatus(`Authentication failed: ${d.reason ?? `status ${d.status}`}`);
        });
        rfbRef.current = rfb;
      },
      (e) => {
        if (!disposed) {
          setError(toApiError(e));
          setStatus('Disconnected');
        }
      },
    );
    return () => {
      disposed = true;
      rfbRef.current?.disconnect();
      rfbRef.current = undefined;
    };
  }, [name, attempt]);

  useEffect(() => {
    if (rfbRef.current) rfbRef.current.scaleViewport = scale;
  }, [scale]);

  // Once the display has the focus every key goes to the guest, Tab included. Ctrl+Alt pressed
  // together releases the keyboard, as in virt-viewer: the guest sees Ctrl and Alt let go, and the
  // focus moves to the toolbar. (Captured on the container, before noVNC's canvas sees the key.)
  useEffect(() => {
    const el = screen.current;
    if (!el) return;
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey && e.altKey && (e.key === 'Control' || e.key === 'Alt'))) return;
      e.preventDefault();
      e.stopPropagation();
      const rfb = rfbRef.current;
      if (rfb && connected) for (const [sym, code] of MODIFIERS) rfb.sendKey(sym, code, false);
      rfb?.blur();
      releaseTo.current?.focus();
    };
    el.addEventListener('keydown', onKey, true);
    return () => el.removeEventListener('keydown', onKey, true);
  }, [connected]);

  const typeText = (e: FormEvent) => {
    e.preventDefault();
    const rfb = rfbRef.current;
    if (!rfb) return;
    for (const ch of paste) {
      const shift = SHIFTED.test(ch);
      if (shift) rfb.sendKey(XK_SHIFT_L, 'ShiftLeft', true);
      rfb.sendKey(keysym(ch), null);
      if (shift) rfb.sendKey(XK_SHIFT_L, 'ShiftLeft', false);
    }
    setPaste('');
    rfb.focus();
  };

  return (
    <section aria-labelledby="display-title" className="display-page">
      <p className="crumbs">
        <a href={href('/guests')}>Guests</a> / <a href={href(guestPath(name))}>{name}</a> /
      </p>
      <h1 id="display-title">Display of {name}</h1>
      <div className="toolbar">
        <span role="status" data-testid="display-status">
          {status}
        </span>
        <label className="inline">
          <input
            ref={releaseTo}
            type="checkbox"
            checked={scale}
            onChange={(e) => setScale(e.target.checked)}
          />{' '}
          scale to the window
        </label>
        <button type="button" disabled={!connected} onClick={() => rfbRef.current?.sendCtrlAltDel()}>
          Send Ctrl+Alt+Del
        </button>
        {!connected && (
          <button type="button" onClick={() => setAttempt((n) => n + 1)}>
            Reconnect
          </button>
        )}
        <span className="hint" id="display-keys">
          Keys typed in the display go to the guest, Tab included; press Ctrl+Alt together to release the
          keyboard.
        </span>
      </div>
      <ErrorBox error={error} />
      {needPassword && (
        <form
          className="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            rfbRef.current?.sendCredentials({ password });
            setNeedPassword(false);
          }}
        >
          <label>
            VNC password
            <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} />
          </label>
          <button type="submit">Send</button>
        </form>
      )}
      <div className="screen" ref={screen} data-testid="screen" aria-describedby="display-keys" />
      <form className="toolbar" onSubmit={typeText}>
        <label>
          Type this text into the guest (as keystrokes)
          <textarea rows={2} cols={60} value={paste} onChange={(e) => setPaste(e.target.value)} />
        </label>
        <button type="submit" disabled={!connected || paste === ''}>
          Type it
        </button>
      </form>
    </section>
  );
}
