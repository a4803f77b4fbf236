/**
 * One attack (GET /api/attacks/{alert id}): its facts — vector, victim, start and end, peaks,
 * sources, signature with its coverage and collateral — and the report's charts of its window:
 * the sensor's packets, bits and requests per second a minute either side of the attack, all and
 * the part detection attributed to the attack's vector, and how many attacks of its vector were
 * open, drawn with uPlot.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Attack as AttackRecord } from '../../../src/model/attack.js';
import { ApiError, api } from '../api.js';
import { Chart } from '../Chart.js';
import { PageTitle, Severity, time, victimText } from '../ui.js';

interface TrafficPoint {
  second: number;
  packets: number;
  bytes: number;
  requests: number;
  open: number;
  /** What detection attributed to attacks of this vector. */
  vector: { packets: number; bytes: number; requests: number };
}

interface AttackView {
  alert: {
    id: string;
    state: string;
    severity: string;
    score: number;
    confidence: number;
    sensor: string;
    first_seen: string;
    last_seen: string;
    incident_id: number | null;
    customer: string | null;
    reasons: string[];
  };
  attack: AttackRecord;
  traffic: { sensor: string; from: number; to: number; step_s: number; truncated: boolean; points: TrafficPoint[] };
}

/** While the attack is open its window grows: read again this often. */
const REFRESH_MS = 5000;

const count = (v: number | undefined) => (v === undefined ? '–' : Math.round(v).toLocaleString('en'));
const share = (v: number | undefined) => (v === undefined ? '–' : `${(v * 100).toFixed(1)} %`);

export function Attack({ id }: { id: string }) {
  const [view, setView] = useState<AttackView | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      let open = false;
      try {
        const v = await api<AttackView>('GET', `/api/attacks/${encodeURIComponent(id)}`);
        if (stopped) return;
        setView(v);
        setError('');
        open = v.alert.state !== 'ended';
      } catch (err) {
        if (!stopped) setError(err instanceof ApiError && err.status === 404 ? 'There is no such attack.' : (err as Error).message);
      }
      if (!stopped && open) timer = setTimeout(load, REFRESH_MS);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [id]);

  if (view === null)
    return (
      <section>
        <PageTitle>Attack</PageTitle>
        {error !== '' ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : (
          <p>Loading…</p>
        )}
      </section>
    );

  const { alert, attack, traffic } = view;
  const x = traffic.points.map((p) => p.second);
  const per = traffic.step_s > 1 ? ` (averaged over ${traffic.step_s} s)` : '';
  const sig = attack.signature;
  // the series of the traffic detection attributed to the attack's vector, beside the sensor's total
  const mine = (pick: (p: TrafficPoint) => number) => ({ label: attack.vector, values: traffic.points.map(pick) });
  return (
    <article class="attack">
      <PageTitle>
        {attack.vector} on {victimText(attack.victim)}
      </PageTitle>
      {error !== '' && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <section aria-labelledby="attack-facts">
        <h2 id="attack-facts">Facts</h2>
        <dl class="summary">
          <dt>Vector</dt>
          <dd>{attack.vector}</dd>
          <dt>Victim</dt>
          <dd>{victimText(attack.victim)}</dd>
          <dt>Alert</dt>
          <dd>
            {alert.state}, <Severity value={alert.severity} />, score {Math.round(alert.score)}, sensor {alert.sensor}
          </dd>
          <dt>Incident</dt>
          <dd>{alert.incident_id !== null ? <a href={`#/incidents/${alert.incident_id}`}>#{alert.incident_id}</a> : '–'}</dd>
          <dt>Start</dt>
          <dd>{time(attack.start)}</dd>
          <dt>End</dt>
          <dd>{alert.state === 'ended' ? time(attack.end) : `still open (last seen ${time(alert.last_seen)})`}</dd>
          <dt>Packets</dt>
          <dd>
            {count(attack.packets)} ({count(attack.bytes)} bytes)
          </dd>
          <dt>Peak</dt>
          <dd>
            {count(attack.peak_pps)} pps, {count(attack.peak_bps)} bps{attack.peak_rps !== undefined && `, ${count(attack.peak_rps)} requests/s`}
          </dd>
          <dt>Sources</dt>
          <dd>
            {count(attack.sources.unique)} unique{attack.sources.spoofed_likely ? ', likely spoofed' : ''}
          </dd>
          <dt>Signature</dt>
          <dd>{sig === null ? 'none met the bar (the mitigation is a rate limit)' : <code class="mono">{sig.expression}</code>}</dd>
          {sig !== null && (
            <>
              <dt>Coverage</dt>
              <dd>{share(sig.coverage)} of the attack's packets</dd>
              <dt>Collateral</dt>
              <dd>{share(sig.collateral)} of other packets</dd>
            </>
          )}
        </dl>
        {alert.reasons.length > 0 && (
          <ul class="reasons">
            {alert.reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="attack-traffic">
        <h2 id="attack-traffic">Traffic of sensor {traffic.sensor}</h2>
        <p class="hint">
          {time(new Date(traffic.from * 1000).toISOString())} to {time(new Date(traffic.to * 1000).toISOString())}, a minute either side of the attack{per}
          {traffic.truncated && '; the attack ran longer: its last hours are shown'}.
        </p>
        {traffic.points.length === 0 ? (
          <p>No per-second traffic was stored for this window.</p>
        ) : (
          <div class="charts">
            <Chart title="Packets per second" unit="pps" x={x} series={[{ label: 'all', values: traffic.points.map((p) => p.packets) }, mine((p) => p.vector.packets)]} />
            <Chart title="Bits per second" unit="bps" x={x} series={[{ label: 'all', values: traffic.points.map((p) => p.bytes * 8) }, mine((p) => p.vector.bytes * 8)]} />
            <Chart title="HTTP requests per second" unit="rps" x={x} series={[{ label: 'all', values: traffic.points.map((p) => p.requests) }, mine((p) => p.vector.requests)]} />
            <Chart title={`Open ${attack.vector} attacks`} unit="" x={x} series={[{ label: attack.vector, values: traffic.points.map((p) => p.open) }]} />
          </div>
        )}
      </section>

      {attack.sources.top.length > 0 && (
        <section aria-labelledby="attack-sources">
          <h2 id="attack-sources">Top sources</h2>
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col" class="num">
                  Packets
                </th>
              </tr>
            </thead>
            <tbody>
              {attack.sources.top.slice(0, 20).map((s) => (
                <tr key={s.ip}>
                  <td class="mono">{s.ip}</td>
                  <td class="num">{count(s.packets)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </article>
  );
}
