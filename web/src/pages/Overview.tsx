/**
 * The overview: live per-second traffic (packets/s by protocol, bits/s, requests/s; the attacks'
 * own traffic by vector) from the stream, and the alerts in progress from the alert queue.
 */
import type { Alert } from '../../../src/model/alert.js';
import { Chart, type Series } from '../Chart.js';
import { type Second, useLiveSeconds } from '../live.js';
import { usePoll } from '../poll.js';
import { PageTitle, Severity, time, victimText } from '../ui.js';
import { VectorTraffic } from './overview/VectorTraffic.js';

const ALERT_REFRESH_MS = 5000;

/** The keys any second of the window has, sorted: one series each. */
function keysOf(seconds: readonly Second[], pick: (s: Second) => Record<string, number>): string[] {
  const keys = new Set<string>();
  for (const s of seconds) for (const k of Object.keys(pick(s))) keys.add(k);
  return [...keys].sort();
}

function breakdown(seconds: readonly Second[], pick: (s: Second) => Record<string, number>): Series[] {
  return keysOf(seconds, pick).map((k) => ({ label: k, values: seconds.map((s) => pick(s)[k] ?? 0) }));
}

export function Overview() {
  const { seconds, state } = useLiveSeconds();
  const { data: alerts, error } = usePoll<Alert[]>('/api/alerts?state=open,acknowledged&limit=20', ALERT_REFRESH_MS);

  const x = seconds.map((s) => s.second);
  return (
    <section>
      <PageTitle>Overview</PageTitle>
      <p class="status" aria-live="polite">
        Live traffic: <strong data-live-state={state}>{state}</strong> ({seconds.length} s shown, last {WINDOW_TEXT})
      </p>
      <div class="charts">
        <Chart title="Packets per second" unit="pps" x={x} series={[{ label: 'all', values: seconds.map((s) => s.packets) }, ...breakdown(seconds, (s) => s.by_protocol)]} />
        <Chart title="Bits per second" unit="bps" x={x} series={[{ label: 'all', values: seconds.map((s) => s.bytes * 8) }]} />
        <Chart title="HTTP requests per second" unit="rps" x={x} series={[{ label: 'requests', values: seconds.map((s) => s.requests) }]} />
      </div>
      <h2>Attack traffic by vector</h2>
      <VectorTraffic seconds={seconds} />
      <h2>Attacks in progress</h2>
      {error !== '' && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {alerts === null ? (
        <p>Loading…</p>
      ) : alerts.length === 0 ? (
        <p>No open alerts.</p>
      ) : (
        <table class="list">
          <caption class="visually-hidden">Open and acknowledged alerts, highest score first</caption>
          <thead>
            <tr>
              <th scope="col">Score</th>
              <th scope="col">Vector</th>
              <th scope="col">Victim</th>
              <th scope="col">Severity</th>
              <th scope="col">State</th>
              <th scope="col">Since</th>
              <th scope="col">Incident</th>
            </tr>
          </thead>
          <tbody>
            {alerts.map((a) => (
              <tr key={a.id}>
                <td>{Math.round(a.score)}</td>
                <td>
                  <a href={`#/attacks/${encodeURIComponent(a.id)}`} data-attack={a.id}>
                    {a.vector}
                  </a>
                </td>
                <td>{victimText(a.victim)}</td>
                <td>
                  <Severity value={a.severity} />
                </td>
                <td>{a.state ?? 'open'}</td>
                <td>{time(a.first_seen)}</td>
                <td>{a.incident_id != null ? <a href={`#/incidents/${a.incident_id}`}>#{a.incident_id}</a> : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

const WINDOW_TEXT = '5 minutes';
