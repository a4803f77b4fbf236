/**
 * The IP lists the ruleset names (GET /api/lists): one opened shows its entries, one address or
 * prefix a line; an operator edits a list kept in a file beside the ruleset and saves it (PUT
 * under If-Match with the ETag read: a 412 says someone saved first). Lines that do not look like
 * an address are pointed out as you type and keep Save off; the server checks again. A viewer
 * reads. Inline lists (entries written in the ruleset) are changed in the ruleset itself.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, canTriage, type Me } from '../api.js';
import { PageTitle } from '../ui.js';
import { checkLines } from './lists/check.js';

interface ListInfo {
  name: string;
  kind: string;
  file: string | null;
  format: string | null;
  editable: boolean;
}

interface ListText {
  name: string;
  kind: string;
  file: string | null;
  editable: boolean;
  etag: string;
  text: string;
}

export function Lists({ me }: { me: Me }) {
  const operator = canTriage(me);
  const [lists, setLists] = useState<ListInfo[] | null>(null);
  const [open, setOpen] = useState<ListText | null>(null);
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const [message, setMessage] = useState('');
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    api<ListInfo[]>('GET', '/api/lists')
      .then(setLists)
      .catch((err: unknown) => setError((err as Error).message));
  }, []);

  const show = async (name: string) => {
    setError('');
    setMessage('');
    try {
      const l = await api<ListText>('GET', `/api/lists/${encodeURIComponent(name)}`);
      setOpen(l);
      setText(l.text);
      requestAnimationFrame(() => document.getElementById('list-text')?.focus());
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const info = open === null ? undefined : lists?.find((l) => l.name === open.name);
  const canEdit = operator && info?.editable === true;
  const problems = open === null ? [] : checkLines(text, info?.format ?? null);

  const save = async (ev: Event) => {
    ev.preventDefault();
    if (open === null) return;
    setSaving(true);
    setError('');
    setMessage('');
    try {
      const r = await api<{ etag: string; entries: number; warnings: { line: number; message: string }[] }>(
        'PUT',
        `/api/lists/${encodeURIComponent(open.name)}`,
        { text },
        { 'if-match': open.etag },
      );
      setOpen({ ...open, etag: r.etag, text });
      setMessage(`Saved ${open.name}: ${r.entries} entries${r.warnings.length > 0 ? `; ${r.warnings.map((w) => `line ${w.line}: ${w.message}`).join('; ')}` : ''}.`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) setError(`Someone else saved ${open.name} since you opened it: open it again and reapply your change.`);
      else setError((err as Error).message);
    } finally {
      setSaving(false);
    }
  };

  return (
    <section class="lists">
      <PageTitle>Lists</PageTitle>
      {error !== '' && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {lists === null ? (
        <p>Loading…</p>
      ) : lists.length === 0 ? (
        <p>The ruleset names no lists.</p>
      ) : (
        <table class="list">
          <caption class="visually-hidden">The lists the ruleset names</caption>
          <thead>
            <tr>
              <th scope="col">List</th>
              <th scope="col">Kind</th>
              <th scope="col">Where</th>
              <th scope="col">
                <span class="visually-hidden">Open</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {lists.map((l) => (
              <tr key={l.name} data-list={l.name} class={open?.name === l.name ? 'selected' : undefined}>
                <th scope="row" class="mono">
                  {l.name}
                </th>
                <td>{l.kind}</td>
                <td class="mono">{l.file ?? 'inline in the ruleset'}</td>
                <td>
                  <button type="button" onClick={() => void show(l.name)} aria-label={`Open list ${l.name}`}>
                    Open
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {open !== null && (
        <form class="list-editor" onSubmit={save} aria-labelledby="list-title">
          <h2 id="list-title">List {open.name}</h2>
          <label for="list-text">Entries (one address or prefix a line)</label>
          <textarea
            id="list-text"
            class="mono"
            rows={12}
            spellcheck={false}
            readOnly={!canEdit}
            value={text}
            aria-describedby="list-problems"
            onInput={(e) => setText(e.currentTarget.value)}
          />
          <div id="list-problems" aria-live="polite">
            {problems.length > 0 && (
              <ul class="problems">
                {problems.map((p) => (
                  <li key={p.line} class="error">{`line ${p.line}: "${p.text}" is not an address or prefix`}</li>
                ))}
              </ul>
            )}
          </div>
          {!canEdit && <p class="hint">{operator ? 'This list is inline in the ruleset: change it on the Rules page.' : 'Read only: editing lists needs the operator role.'}</p>}
          {canEdit && (
            <button type="submit" disabled={saving || problems.length > 0 || text === open.text}>
              Save list
            </button>
          )}
        </form>
      )}
      <p class="status" role="status">
        {message}
      </p>
    </section>
  );
}
