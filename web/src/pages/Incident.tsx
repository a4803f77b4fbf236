/**
 * One incident: its summary, the timeline with a note form (operators), observables, mitigations
 * with their hit counts, and the report downloads. Laid out to print: the print stylesheet hides
 * the navigation and the forms and keeps the rest in one column.
 */
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Incident as IncidentRecord, TimelineEvent } from '../../../src/model/incident.js';
import { ApiError, api, canTriage, type Me } from '../api.js';
import { PageTitle, Severity, time } from '../ui.js';
import { IncidentAttacks } from './IncidentAttacks.js';

const REPORT_FORMATS = [
  { format: 'html', label: 'HTML report' },
  { format: 'md', label: 'Markdown report' },
  { format: 'pdf', label: 'PDF report' },
] as const;

function rulesetText(ruleset: unknown): string {
  if (ruleset === null || ruleset === undefined) return '–';
  const rules = (ruleset as { rules?: { expression?: string; action?: string }[] }).rules;
  if (Array.isArray(rules)) return rules.map((r) => `${r.action ?? '?'}: ${r.expression ?? '?'}`).join('\n');
  return JSON.stringify(ruleset);
}

export function Incident({ me, n }: { me: Me; n: number }) {
  const [inc, setInc] = useState<IncidentRecord | null>(null);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const [saving, setSaving] = useState(false);
  const [message, setMessage] = useState('');

  const load = async () => {
    try {
      setInc(await api<IncidentRecord>('GET', `/api/incidents/${n}`));
      setError('');
    } catch (err) {
      setError(err instanceof ApiError && err.status === 404 ? `There is no incident #${n}.` : (err as Error).message);
    }
  };

  useEffect(() => {
    setInc(null);
    void load();
  }, [n]);

  const addNote = async (ev: Event) => {
    ev.preventDefault();
    if (note.trim() === '') return;
    setSaving(true);
    try {
      await api<TimelineEvent>('POST', `/api/incidents/${n}/notes`, { text: note });
      setNote('');
      setMessage('Note added.');
      await load();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSaving(false);
    }
  };

  if (inc === null)
    return (
      <section>
        <PageTitle>Incident #{n}</PageTitle>
        {error !== '' ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : (
          <p>Loading…</p>
        )}
      </section>
    );

  return (
    <article class="incident">
      <PageTitle>
        Incident #{inc.number}: {inc.title}
      </PageTitle>
      {error !== '' && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <section aria-labelledby="inc-summary">
        <h2 id="inc-summary">Summary</h2>
        <dl class="summary">
          <dt>Status</dt>
          <dd>{inc.status}</dd>
          <dt>Severity</dt>
          <dd>
            <Severity value={inc.severity} />
          </dd>
          <dt>Customer</dt>
          <dd>{inc.customer ?? '–'}</dd>
          <dt>Assignee</dt>
          <dd>{inc.assignee ?? 'unassigned'}</dd>
          <dt>Tags</dt>
          <dd>{inc.tags.length > 0 ? inc.tags.join(', ') : '–'}</dd>
          <dt>Opened</dt>
          <dd>{time(inc.created_at)}</dd>
          <dt>Last change</dt>
          <dd>{time(inc.updated_at)}</dd>
          <dt>Alerts</dt>
          <dd>{inc.alerts.length}</dd>
          {inc.merged_into != null && (
            <>
              <dt>Merged into</dt>
              <dd>
                <a href={`#/incidents/${inc.merged_into}`}>#{inc.merged_into}</a>
              </dd>
            </>
          )}
        </dl>
        <p class="reports no-print">
          Download:{' '}
          {REPORT_FORMATS.map((r, i) => (
            <Fragment key={r.format}>
              {i > 0 && ' · '}
              <a href={`/api/incidents/${inc.number}/report?format=${r.format}`} download={`incident-${inc.number}.${r.format}`} data-format={r.format}>
                {r.label}
              </a>
            </Fragment>
          ))}
        </p>
      </section>

      <section aria-labelledby="inc-attacks">
        <h2 id="inc-attacks">Attacks</h2>
        <IncidentAttacks ids={inc.alerts} />
      </section>

      <section aria-labelledby="inc-timeline">
        <h2 id="inc-timeline">Timeline</h2>
        {inc.timeline.length === 0 ? (
          <p>Nothing yet.</p>
        ) : (
          <ol class="timeline">
            {inc.timeline.map((e, i) => (
              <li key={e.id ?? i} data-kind={e.kind}>
                <span class="when">{time(e.at)}</span> <span class="kind">{e.kind}</span> <span class="actor">{e.actor}</span>
                <p class="text">{e.text}</p>
              </li>
            ))}
          </ol>
        )}
        {canTriage(me) && (
          <form class="note no-print" onSubmit={addNote}>
            <label for="note-text">Add a note</label>
            <textarea id="note-text" rows={3} maxLength={4000} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
            <button type="submit" disabled={saving || note.trim() === ''}>
              Add note
            </button>
            <span class="status" role="status">
              {message}
            </span>
          </form>
        )}
      </section>

      <section aria-labelledby="inc-observables">
        <h2 id="inc-observables">Observables</h2>
        {inc.observables.length === 0 ? (
          <p>None recorded.</p>
        ) : (
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Value</th>
                <th scope="col">First seen</th>
              </tr>
            </thead>
            <tbody>
              {inc.observables.map((o) => (
                <tr key={`${o.kind}:${o.value}`}>
                  <td>{o.kind}</td>
                  <td class="mono">{o.value}</td>
                  <td>{time(o.first_seen)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="inc-mitigations">
        <h2 id="inc-mitigations">Mitigations</h2>
        {inc.mitigations.length === 0 ? (
          <p>None.</p>
        ) : (
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Target</th>
                <th scope="col">State</th>
                <th scope="col">Hits</th>
                <th scope="col">Rules</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {inc.mitigations.map((m, i) => (
                <tr key={m.id ?? i}>
                  <td>{m.target}</td>
                  <td>{m.state}</td>
                  <td class="num">{m.hits.toLocaleString('en')}</td>
                  <td>
                    <pre class="mono">{rulesetText(m.ruleset)}</pre>
                  </td>
                  <td>{time(m.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </article>
  );
}
