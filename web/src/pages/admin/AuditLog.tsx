/** The audit log, newest first (the API's order), optionally of one actor: who changed what, when, from where. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { usePoll } from '../../poll.js';
import { time } from '../../ui.js';
import type { AuditRow } from './types.js';

const LIMIT = 200;

export function AuditLog({ version }: { version: number }) {
  const [actor, setActor] = useState('');
  const [applied, setApplied] = useState('');
  const path = `/api/audit?limit=${LIMIT}${applied === '' ? '' : `&actor=${encodeURIComponent(applied)}`}`;
  const { data, error, reload } = usePoll<AuditRow[]>(path, 0);
  // `version` changes after every change made on this page: read the log again so it shows it
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else reload();
  }, [version, reload]);
  return (
    <>
      <h2>Audit log</h2>
      <form
        class="inline-form"
        onSubmit={(ev) => {
          ev.preventDefault();
          setApplied(actor.trim());
        }}
      >
        <div>
          <label for="audit-actor">Only the changes of (account)</label>
          <input id="audit-actor" value={actor} onInput={(e) => setActor((e.target as HTMLInputElement).value)} />
        </div>
        <button type="submit">Filter</button>
      </form>
      {error !== '' && (
        <p class="error" role="alert" data-audit-error>
          {error}
        </p>
      )}
      {data === null ? (
        error === '' && <p>Loading…</p>
      ) : data.length === 0 ? (
        <p class="empty">No change{applied === '' ? '' : ` by ${applied}`} recorded.</p>
      ) : (
        <table class="list audit">
          <caption class="visually-hidden">Audit log, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">On</th>
              <th scope="col">Detail</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {data.map((r) => (
              <tr key={r.id} data-action={r.action} data-target={r.target}>
                <td>{time(r.at)}</td>
                <td>{r.actor}</td>
                <td>{r.action}</td>
                <td class="mono">{r.target}</td>
                <td class="mono">{r.detail == null ? '' : JSON.stringify(r.detail)}</td>
                <td>{r.address ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
