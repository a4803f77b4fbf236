/**
 * The alert queue, most urgent (highest score) first, triaged from the keyboard: j / ↓ next,
 * k / ↑ previous, a acknowledge, o / Enter open the alert's incident, v view its attack page. Each row is focusable with
 * a roving tabindex (the selected row and its buttons are the list's only Tab stops); the
 * buttons do the same for a mouse. A
 * viewer gets no acknowledge button (the API would answer 403 anyway).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Alert } from '../../../src/model/alert.js';
import { api, canTriage, type Me } from '../api.js';
import { go } from '../router.js';
import { PageTitle, Severity, time, victimText } from '../ui.js';

function byUrgency(a: Alert, b: Alert): number {
  return b.score - a.score || a.first_seen.localeCompare(b.first_seen);
}

/** The queue is read again this often, so new alerts show up without a reload. */
const REFRESH_MS = 10_000;

export function Alerts({ me }: { me: Me }) {
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  // the selection follows the alert, not the row number: a refresh may move it
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const rows = useRef<(HTMLTableRowElement | null)[]>([]);
  const triage = canTriage(me);

  const load = async (): Promise<Alert[]> => {
    const list = (await api<Alert[]>('GET', '/api/alerts?state=open,acknowledged,silenced')).sort(byUrgency);
    setAlerts(list);
    return list;
  };

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        await load();
        if (!stopped) setError('');
      } catch (err) {
        if (!stopped) setError((err as Error).message);
      }
      if (!stopped) timer = setTimeout(tick, REFRESH_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);

  const found = alerts === null || selectedId === null ? -1 : alerts.findIndex((a) => a.id === selectedId);
  // an alert no longer in the queue (ended elsewhere) hands the selection to the first row
  const selected = Math.max(found, 0);

  const focusRow = (i: number) => {
    if (alerts === null || alerts.length === 0) return;
    const at = Math.max(0, Math.min(alerts.length - 1, i));
    setSelectedId((alerts[at] as Alert).id);
    rows.current[at]?.focus();
  };

  const ack = async (a: Alert) => {
    if (!triage || a.state === 'acknowledged') return;
    setError('');
    try {
      await api<Alert>('POST', `/api/alerts/${encodeURIComponent(a.id)}/ack`, {});
      setMessage(`Acknowledged ${a.vector} on ${victimText(a.victim)}.`);
      const list = await load();
      // keep the focus on the same alert: its row may have moved
      const at = list.findIndex((x) => x.id === a.id);
      if (at >= 0) {
        setSelectedId(a.id);
        requestAnimationFrame(() => rows.current[at]?.focus());
      }
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const open = (a: Alert) => {
    if (a.incident_id != null) go(`#/incidents/${a.incident_id}`);
    else setMessage(`${a.vector} on ${victimText(a.victim)} has no incident yet.`);
  };

  const onKey = (ev: KeyboardEvent) => {
    if (alerts === null || alerts.length === 0 || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const onControl = ev.target instanceof HTMLButtonElement || ev.target instanceof HTMLAnchorElement;
    const current = alerts[selected];
    switch (ev.key) {
      case 'j':
      case 'ArrowDown':
        focusRow(selected + 1);
        break;
      case 'k':
      case 'ArrowUp':
        focusRow(selected - 1);
        break;
      case 'a':
        if (current) void ack(current);
        break;
      case 'o':
        if (current) open(current);
        break;
      case 'v':
        if (current) go(`#/attacks/${encodeURIComponent(current.id)}`);
        break;
      case 'Enter':
        // Enter on a button or link is that control's own
        if (onControl) return;
        if (current) open(current);
        break;
      default:
        return;
    }
    ev.preventDefault();
  };

  return (
    <section>
      <PageTitle>Alert queue</PageTitle>
      <p class="hint" id="queue-keys">
        Most urgent first. Keys: <kbd>j</kbd>/<kbd>↓</kbd> next, <kbd>k</kbd>/<kbd>↑</kbd> previous,
        {triage && (
          <>
            {' '}
            <kbd>a</kbd> acknowledge,
          </>
        )}{' '}
        <kbd>o</kbd>/<kbd>Enter</kbd> open its incident, <kbd>v</kbd> view its attack.
      </p>
      <p class="status" role="status">
        {message}
      </p>
      {error !== '' && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {alerts === null ? (
        <p>Loading…</p>
      ) : alerts.length === 0 ? (
        <p>The queue is empty.</p>
      ) : (
        <table class="list queue" onKeyDown={onKey} aria-describedby="queue-keys">
          <caption class="visually-hidden">Alerts not ended, highest score first</caption>
          <thead>
            <tr>
              <th scope="col">Score</th>
              <th scope="col">Severity</th>
              <th scope="col">Vector</th>
              <th scope="col">Victim</th>
              <th scope="col">State</th>
              <th scope="col">First seen</th>
              <th scope="col">Last seen</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {alerts.map((a, i) => (
              <tr
                key={a.id}
                ref={(el) => {
                  rows.current[i] = el;
                }}
                tabIndex={i === selected ? 0 : -1}
                class={i === selected ? 'selected' : undefined}
                aria-current={i === selected ? 'true' : undefined}
                data-alert-id={a.id}
                data-score={a.score}
                onFocus={() => setSelectedId(a.id)}
              >
                <td>{Math.round(a.score)}</td>
                <td>
                  <Severity value={a.severity} />
                </td>
                <td>
                  <a href={`#/attacks/${encodeURIComponent(a.id)}`} tabIndex={i === selected ? 0 : -1} data-attack={a.id}>
                    {a.vector}
                  </a>
                </td>
                <td>{victimText(a.victim)}</td>
                <td data-state={a.state ?? 'open'}>{a.state ?? 'open'}</td>
                <td>{time(a.first_seen)}</td>
                <td>{time(a.last_seen)}</td>
                <td class="actions">
                  {triage && (
                    <button type="button" tabIndex={i === selected ? 0 : -1} class="ack" disabled={a.state === 'acknowledged'} onClick={() => void ack(a)}>
                      Acknowledge
                    </button>
                  )}
                  {a.incident_id != null ? (
                    <a href={`#/incidents/${a.incident_id}`} tabIndex={i === selected ? 0 : -1}>
                      Incident #{a.incident_id}
                    </a>
                  ) : (
                    <span>no incident</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
