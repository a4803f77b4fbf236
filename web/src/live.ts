/**
 * The live per-second traffic the overview charts: one EventSource on /api/stats/stream (the
 * browser reconnects by itself and sends Last-Event-ID, so the server resumes after the last
 * second we have), kept as a window of the last WINDOW seconds.
 */
import { useEffect, useState } from 'preact/hooks';

/** One second of traffic as the stream sends it (src/server/stream.ts SecondEvent). */
export interface Second {
  second: number;
  packets: number;
  bytes: number;
  requests: number;
  by_protocol: Record<string, number>;
  by_vector: Record<string, number>;
}

export const WINDOW = 300;

export type LiveState = 'connecting' | 'live' | 'reconnecting';

export function useLiveSeconds(): { seconds: readonly Second[]; state: LiveState } {
  const [seconds, setSeconds] = useState<readonly Second[]>([]);
  const [state, setState] = useState<LiveState>('connecting');
  useEffect(() => {
    const source = new EventSource('/api/stats/stream');
    source.onopen = () => setState('live');
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? 'connecting' : 'reconnecting');
    source.addEventListener('second', (ev) => {
      const s = JSON.parse((ev as MessageEvent<string>).data) as Second;
      setSeconds((prev) => {
        // a replayed second (resume after a reconnect that raced a write) replaces, never duplicates
        const kept = prev.filter((p) => p.second !== s.second && p.second > s.second - WINDOW);
        kept.push(s);
        kept.sort((a, b) => a.second - b.second);
        return kept;
      });
    });
    return () => source.close();
  }, []);
  return { seconds, state };
}
