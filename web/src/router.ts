/**
 * Hash routing: the server serves one file for the console, so every page is a fragment
 * (#/alerts, #/incidents/12) and a reload or a shared link lands on the same page.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route = { page: 'overview' } | { page: 'alerts' } | { page: 'incident'; n: number } | { page: 'missing'; hash: string };

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  if (path === '/' || path === '/overview') return { page: 'overview' };
  if (path === '/alerts') return { page: 'alerts' };
  const m = /^\/incidents\/(\d{1,15})$/.exec(path);
  if (m) return { page: 'incident', n: Number(m[1]) };
  return { page: 'missing', hash: path };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function go(hash: string): void {
  location.hash = hash;
}
