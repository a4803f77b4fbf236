/**
 * The attacks of an incident, each a link to its page: the ticket lists its alerts' ids (one alert
 * per attack), read here one by one — a ticket holds a few, and the first MAX are shown.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Alert } from '../../../src/model/alert.js';
import { api } from '../api.js';
import { Severity, time, victimText } from '../ui.js';

const MAX = 20;

export function IncidentAttacks({ ids }: { ids: readonly string[] }) {
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const key = ids.join(',');
  useEffect(() => {
    let stopped = false;
    Promise.all(ids.slice(0, MAX).map((id) => api<Alert>('GET', `/api/alerts/${encodeURIComponent(id)}`).catch(() => null))).then((list) => {
      if (!stopped) setAlerts(list.filter((a): a is Alert => a !== null));
    });
    return () => {
      stopped = true;
    };
  }, [key]);

  if (ids.length === 0) return <p>No attacks: its alerts were moved away.</p>;
  if (alerts === null) return <p>Loading…</p>;
  return (
    <ul class="attacks">
      {alerts.map((a) => (
        <li key={a.id}>
          <a href={`#/attacks/${encodeURIComponent(a.id)}`} data-attack={a.id}>
            {a.vector} on {victimText(a.victim)}
          </a>{' '}
          <Severity value={a.severity} /> <span class="hint">since {time(a.first_seen)}</span>
        </li>
      ))}
      {ids.length > MAX && <li>and {ids.length - MAX} more</li>}
    </ul>
  );
}
