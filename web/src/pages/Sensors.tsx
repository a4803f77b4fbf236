/**
 * Sensors and edge proxies: who is feeding this console and whether they are healthy. Both lists
 * refresh every 5 s; a stale sensor or a down proxy says so in words (not only colour), with the
 * reason a proxy is down.
 */
import { format } from '../Chart.js';
import { usePoll } from '../poll.js';
import { PageTitle, time } from '../ui.js';

const REFRESH_MS = 5000;

interface Sensor {
  name: string;
  first_seen: string;
  last_seen: string;
  silent_s: number;
  stale: boolean;
  last_minute: { packets_per_s: number; bits_per_s: number; requests_per_s: number };
}

interface ProxyHealth {
  url: string;
  up: boolean;
  checked_at: string;
  latency_ms: number | null;
  error: string | null;
  time: string | null;
  runtime_rules: number | null;
  stats: unknown;
}

function Problem({ text }: { text: string }) {
  return text === '' ? null : (
    <p class="error" role="alert">
      {text}
    </p>
  );
}

function SensorTable() {
  const { data, error } = usePoll<Sensor[]>('/api/sensors', REFRESH_MS);
  return (
    <>
      <h2>Sensors</h2>
      <Problem text={error} />
      {data === null ? (
        <p>Loading…</p>
      ) : data.length === 0 ? (
        <p class="empty">
          No sensor has written to this store yet. Start one with <code>palisade monitor --db &lt;the store this server uses&gt;</code>; it appears here with its first second of
          traffic.
        </p>
      ) : (
        <table class="list sensors">
          <caption class="visually-hidden">Sensors, with their traffic over the last minute</caption>
          <thead>
            <tr>
              <th scope="col">Sensor</th>
              <th scope="col">State</th>
              <th scope="col">First seen</th>
              <th scope="col">Last seen</th>
              <th scope="col" class="num">
                Packets/s
              </th>
              <th scope="col" class="num">
                Bits/s
              </th>
              <th scope="col" class="num">
                Requests/s
              </th>
            </tr>
          </thead>
          <tbody>
            {data.map((s) => (
              <tr key={s.name} data-sensor={s.name} data-stale={String(s.stale)} class={s.stale ? 'bad' : undefined}>
                <td>{s.name}</td>
                <td>{s.stale ? <strong>stale: silent {s.silent_s} s</strong> : `live (${s.silent_s} s ago)`}</td>
                <td>{time(s.first_seen)}</td>
                <td>{time(s.last_seen)}</td>
                <td class="num">{format(s.last_minute.packets_per_s, 'pps')}</td>
                <td class="num">{format(s.last_minute.bits_per_s, 'bps')}</td>
                <td class="num">{format(s.last_minute.requests_per_s, 'rps')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

/** The edge's counters as it reports them: the top-level numbers, the rest left out. */
function counters(stats: unknown): string {
  if (stats === null || typeof stats !== 'object') return '–';
  const parts: string[] = [];
  const walk = (o: Record<string, unknown>, prefix: string, depth: number) => {
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === 'number') parts.push(`${prefix}${k} ${v.toLocaleString('en-US')}`);
      else if (v !== null && typeof v === 'object' && depth < 1) walk(v as Record<string, unknown>, `${prefix}${k}.`, depth + 1);
    }
  };
  walk(stats as Record<string, unknown>, '', 0);
  return parts.length === 0 ? '–' : parts.slice(0, 12).join(', ');
}

function ProxyTable() {
  const { data, error } = usePoll<ProxyHealth[]>('/api/proxies', REFRESH_MS);
  return (
    <>
      <h2>Edge proxies</h2>
      <Problem text={error} />
      {data === null ? (
        <p>Loading…</p>
      ) : data.length === 0 ? (
        <p class="empty">
          This server watches no edge proxy. Start it with <code>palisade serve --edge http://HOST:PORT</code> (an edge's admin address, repeatable; its token with{' '}
          <code>--edge-token</code>).
        </p>
      ) : (
        <table class="list proxies">
          <caption class="visually-hidden">Edge proxies and their health</caption>
          <thead>
            <tr>
              <th scope="col">Admin URL</th>
              <th scope="col">State</th>
              <th scope="col" class="num">
                Latency
              </th>
              <th scope="col">Its clock</th>
              <th scope="col" class="num">
                Runtime rules
              </th>
              <th scope="col">Counters</th>
            </tr>
          </thead>
          <tbody>
            {data.map((p) => (
              <tr key={p.url} data-proxy={p.url} data-up={String(p.up)} class={p.up ? undefined : 'bad'}>
                <td class="mono">{p.url}</td>
                <td>{p.up ? 'up' : <strong>down: {p.error ?? 'no answer'}</strong>}</td>
                <td class="num">{p.latency_ms === null ? '–' : `${p.latency_ms} ms`}</td>
                <td>{time(p.time)}</td>
                <td class="num">{p.runtime_rules ?? '–'}</td>
                <td class="counters">{counters(p.stats)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function Sensors() {
  return (
    <section>
      <PageTitle>Sensors and proxies</PageTitle>
      <p class="hint">Refreshed every {REFRESH_MS / 1000} s. A sensor silent for more than 10 s is stale; a proxy that does not answer its health check is down.</p>
      <SensorTable />
      <ProxyTable />
    </section>
  );
}
