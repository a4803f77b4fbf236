/**
 * The live per-second traffic the overview charts: one EventSource on /api/stats/stream (the
 * browser reconnects by itself after a dropped connection and sends Last-Event-ID, so the server
 * resumes after the last second we have), kept as a window of the last WINDOW seconds.
 *
 * A refused connection (a 401 once the session has expired, a 503 from a proxy) closes an
 * EventSource for good: then the session is checked (a 401 brings back the login page) and a new
 * stream is opened after a pause, asking for the history since the last second we have.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';

/** One second of traffic as the stream sends it (src/server/stream.ts SecondEvent). */
export interface Second {
  second: number;
  packets: number;
  bytes: number;
  requests: number;
  by_protocol: Record<string, number>;
  by_vector: Record<string, number>;
  /** The attacks' own traffic by vector: packets and bytes of L3/4 attacks, requests of L7 ones. */
  traffic_by_vector: Record<string, { packets: number; bytes: number; requests: number }>;
}

export const WINDOW = 300;
const REOPEN_MS = 5000;

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export function useLiveSeconds(): { seconds: readonly Second[]; state: LiveState } {
  const [seconds, setSeconds] = useState<readonly Second[]>([]);
  const [state, setState] = useState<LiveState>('connecting');
  useEffect(() => {
    let source: EventSource | null = null;
    let reopen: ReturnType<typeof setTimeout> | undefined;
    let newest = 0;
    let stopped = false;
    const open = () => {
      const backlog = newest === 0 ? WINDOW : Math.min(WINDOW, Math.max(0, Math.floor(Date.now() / 1000) - newest));
      const s = new EventSource(`/api/stats/stream?backlog=${backlog}`);
      source = s;
      s.onopen = () => setState('live');
      s.onerror = () => {
        if (s.readyState !== EventSource.CLOSED) return setState('reconnecting');
        setState('offline');
        s.close();
        // a 401 here makes the shell show the login page; anything else: try again shortly
        api('GET', '/api/me').catch(() => {});
        if (!stopped) reopen = setTimeout(open, REOPEN_MS);
      };
      s.addEventListener('second', (ev) => {
        const sec = JSON.parse((ev as MessageEvent<string>).data) as Second;
        newest = Math.max(newest, sec.second);
        setSeconds((prev) => {
          // a second sent again (a resume that raced a write) replaces, never duplicates
          const kept = prev.filter((p) => p.second !== sec.second && p.second > sec.second - WINDOW);
          kept.push(sec);
          kept.sort((a, b) => a.second - b.second);
          return kept;
        });
      });
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(reopen);
      source?.close();
    };
  }, []);
  return { seconds, state };
}
