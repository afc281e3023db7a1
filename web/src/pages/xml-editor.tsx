// The XML tab: the persistent definition in an editor; checked in the browser, then defined by
// the server, whose errors are shown as they come.
import { useEffect, useState } from 'react';
import { type ApiError, api, toApiError } from '../api';
import { ErrorBox } from '../components/error-box';
import { checkDomainXml } from '../domain-xml';

export function XmlEditor({
  name,
  canWrite,
  onSaved,
}: {
  name: string;
  canWrite: boolean;
  onSaved: () => void;
}) {
  const [original, setOriginal] = useState<string>();
  const [text, setText] = useState('');
  const [error, setError] = useState<ApiError>();
  const [problem, setProblem] = useState<string>();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.xml(name, true).then(
      (r) => {
        setOriginal(r.xml);
        setText(r.xml);
      },
      (e) => setError(toApiError(e)),
    );
  }, [name]);

  const save = async () => {
    setSaved(false);
    setError(undefined);
    const p = checkDomainXml(text, name);
    setProblem(p);
    if (p) return;
    setBusy(true);
    try {
      await api.define(text);
      const r = await api.xml(name, true);
      setOriginal(r.xml);
      setText(r.xml);
      setSaved(true);
      onSaved();
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  };

  if (original === undefined)
    return error ? <ErrorBox error={error} /> : <p className="loading">Loading XML…</p>;
  const dirty = text !== original;
  return (
    <div className="xml-editor">
      <label htmlFor="xml-text">
        Persistent definition (changes apply to a running guest at its next start)
      </label>
      <textarea
        id="xml-text"
        spellCheck={false}
        readOnly={!canWrite}
        value={text}
        rows={28}
        onChange={(e) => {
          setText(e.target.value);
          setSaved(false);
          setProblem(undefined);
        }}
      />
      {problem && (
        <div className="error" role="alert" data-testid="xml-problem">
          <div className="error-message">{problem}</div>
        </div>
      )}
      <ErrorBox error={error} />
      {saved && (
        <p className="notice" role="status">
          Saved.
        </p>
      )}
      {canWrite && (
        <div className="toolbar">
          <button type="button" className="primary" disabled={!dirty || busy} onClick={() => void save()}>
            Validate and save
          </button>
          <button
            type="button"
            disabled={!dirty || busy}
            onClick={() => {
              setText(original);
              setProblem(undefined);
              setError(undefined);
            }}
          >
            Revert
          </button>
        </div>
      )}
    </div>
  );
}
