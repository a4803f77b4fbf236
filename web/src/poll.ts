/**
 * A GET repeated every few seconds while the page is shown (sensors and proxies change on their
 * own, nobody presses reload on shift). The last good answer stays on screen when a refresh
 * fails; the error is shown beside it. `reload` asks again at once (after a change).
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';

export interface Polled<T> {
  data: T | null;
  error: string;
  reload: () => void;
}

export function usePoll<T>(path: string, everyMs: number): Polled<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState('');
  const kick = useRef<() => void>(() => {});

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      clearTimeout(timer);
      try {
        const d = await api<T>('GET', path);
        if (!stopped) {
          setData(d);
          setError('');
        }
      } catch (err) {
        if (!stopped) setError((err as Error).message);
      }
      if (!stopped && everyMs > 0) timer = setTimeout(load, everyMs);
    };
    kick.current = () => void load();
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [path, everyMs]);

  const reload = useCallback(() => kick.current(), []);
  return { data, error, reload };
}
