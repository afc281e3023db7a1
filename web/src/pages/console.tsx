// The serial console: xterm.js over the console WebSocket (binary frames both ways).
import '@xterm/xterm/css/xterm.css';
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { useEffect, useRef, useState } from 'react';
import { type ApiError, api, toApiError, wsUrl } from '../api';
import { ErrorBox } from '../components/error-box';
import { isActive } from '../components/state';
import { guestPath, href } from '../router';

type Status = 'connecting' | 'connected' | 'closed';

export function ConsolePage({ name }: { name: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<Status>('connecting');
  const [closedWhy, setClosedWhy] = useState('');
  const [error, setError] = useState<ApiError>();
  const [attempt, setAttempt] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` is the Reconnect button's trigger
  useEffect(() => {
    let ws: WebSocket | undefined;
    let disposed = false;
    const term = new Terminal({ cursorBlink: true, fontSize: 14, convertEol: false, scrollback: 5000 });
    // Shift+Tab is left to the browser, so a keyboard user can leave the terminal.
    term.attachCustomKeyEventHandler((e) => !(e.key === 'Tab' && e.shiftKey));
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box.current!);
    fit.fit();
    const onResize = () => fit.fit();
    window.addEventListener('resize', onResize);
    term.focus();
    setStatus('connecting');
    setError(undefined);
    // A browser does not show why a WebSocket handshake failed: ask the API first.
    api.domain(name).then(
      (d) => {
        if (disposed) return;
        if (!isActive(d.state)) {
          setStatus('closed');
          setClosedWhy(`${name} is ${d.state}: start it to use its console`);
          return;
        }
        ws = new WebSocket(wsUrl(`/v1/domains/${encodeURIComponent(name)}/console`));
        ws.binaryType = 'arraybuffer';
        ws.onopen = () => setStatus('connected');
        ws.onmessage = (m) => term.write(new Uint8Array(m.data as ArrayBuffer));
        ws.onclose = (e) => {
          if (disposed) return;
          setStatus('closed');
          setClosedWhy(
            e.reason || (e.code === 1006 ? 'the connection was refused or lost' : `code ${e.code}`),
          );
        };
        const enc = new TextEncoder();
        term.onData((data) => {
          if (ws?.readyState === WebSocket.OPEN) ws.send(enc.encode(data));
        });
      },
      (e) => {
        if (disposed) return;
        setError(toApiError(e));
        setStatus('closed');
      },
    );
    return () => {
      disposed = true;
      window.removeEventListener('resize', onResize);
      ws?.close();
      term.dispose();
    };
  }, [name, attempt]);

  return (
    <section aria-labelledby="console-title" className="console-page">
      <p className="crumbs">
        <a href={href('/guests')}>Guests</a> / <a href={href(guestPath(name))}>{name}</a> /
      </p>
      <h1 id="console-title">Serial console of {name}</h1>
      <p className="console-status" role="status" data-testid="console-status">
        {status === 'closed'
          ? `Disconnected: ${closedWhy}`
          : status === 'connected'
            ? 'Connected'
            : 'Connecting…'}
        {status === 'closed' && (
          <button type="button" onClick={() => setAttempt((n) => n + 1)}>
            Reconnect
          </button>
        )}
      </p>
      <ErrorBox error={error} />
      <div className="terminal" ref={box} data-testid="terminal" />
      <p className="hint">Keys typed in the terminal go to the guest; Shift+Tab leaves the terminal.</p>
    </section>
  );
}
