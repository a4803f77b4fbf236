/**
 * Hash routing: the server serves one file for the console, so every page is a fragment
 * (#/alerts, #/incidents/12) and a reload or a shared link lands on the same page.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'overview' }
  | { page: 'alerts' }
  | { page: 'incident'; n: number }
  | { page: 'rules' }
  | { page: 'lists' }
  | { page: 'sensors' }
  | { page: 'admin' }
  | { page: 'attack'; id: string }
  | { page: 'missing'; hash: string };

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  if (path === '/' || path === '/overview') return { page: 'overview' };
  if (path === '/alerts') return { page: 'alerts' };
  if (path === '/rules') return { page: 'rules' };
  if (path === '/lists') return { page: 'lists' };
  if (path === '/sensors') return { page: 'sensors' };
  if (path === '/admin') return { page: 'admin' };
  // an attack is named by its alert's id (the store's key for it)
  const a = /^\/attacks\/([^/]{1,200})$/.exec(path);
  if (a) {
    try {
      return { page: 'attack', id: decodeURIComponent(a[1] as string) };
    } catch {
      return { page: 'missing', hash: path };
    }
  }
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
