// A readable failure: the message, and the detail behind it (code, origin, HTTP status) one click away.
import type { ApiError } from '../api';

export function ErrorBox({ error, onDismiss }: { error: ApiError | undefined; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <div className="error-message">{error.message}</div>
      <details>
        <summary>Details</summary>
        <code>{error.detail}</code>
      </details>
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}
