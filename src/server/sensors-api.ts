/**
 * The sensors heard from, as their per-second summaries show them (a monitor writes one row per
 * second of traffic): when each was first and last heard, its packets and requests per second
 * over the last minute, and whether it has gone quiet.
 */
import type { Store } from '../incidents/store/store.js';
import type { Route } from './http.js';

/** Silent for longer than this: stale (a monitor writes a summary every second it sees traffic, in batches of a few seconds). */
export const STALE_AFTER_S = 10;
const RECENT_S = 60;

export function sensorRoutes(store: Store, now: () => number = Date.now): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/sensors',
      summary: `The sensors heard from (their per-second summaries): first and last second seen, packets, bytes and requests per second over the last minute, stale when silent for more than ${STALE_AFTER_S} s`,
      role: 'viewer',
      handler: async () => {
        const t = Math.floor(now() / 1000);
        const recent = new Map<string, { packets: number; bytes: number; requests: number }>();
        for (const s of await store.readSummaries(t - RECENT_S, t + 1)) {
          const r = recent.get(s.sensor) ?? { packets: 0, bytes: 0, requests: 0 };
          r.packets += s.packets;
          r.bytes += s.bytes;
          r.requests += s.requests;
          recent.set(s.sensor, r);
        }
        const iso = (sec: number): string => new Date(sec * 1000).toISOString();
        return {
          json: (await store.summarySensors()).map((x) => {
            const r = recent.get(x.sensor) ?? { packets: 0, bytes: 0, requests: 0 };
            return {
              name: x.sensor,
              first_seen: iso(x.first),
              last_seen: iso(x.last),
              silent_s: Math.max(0, t - x.last),
              stale: t - x.last > STALE_AFTER_S,
              last_minute: { packets_per_s: r.packets / RECENT_S, bits_per_s: (r.bytes * 8) / RECENT_S, requests_per_s: r.requests / RECENT_S },
            };
          }),
        };
      },
    },
  ];
}
