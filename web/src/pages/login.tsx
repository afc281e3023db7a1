// Login with a tvirtd token (a token of the daemon's token file, or the one-time link it printed).
import { type FormEvent, useState } from 'react';
import { type ApiError, type Role, api, toApiError } from '../api';
import { ErrorBox } from '../components/error-box';

export function LoginPage({
  initialError,
  onLogin,
}: {
  initialError: ApiError | undefined;
  onLogin: (s: { role: Role; name?: string }) => void;
}) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<ApiError | undefined>(initialError);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      onLogin(await api.login(token.trim()));
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login">
      <form onSubmit={submit}>
        <h1>tvirt</h1>
        <p>
          Log in with a token from the daemon's token file, or open the one-time link{' '}
          <code>tvirtd --web</code> printed (also in its <code>run/web-login-url</code> file).
        </p>
        <label>
          Token
          <input type="password" value={token} onChange={(e) => setToken(e.target.value)} required />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          Log in
        </button>
        <ErrorBox error={error} />
      </form>
    </main>
  );
}
