/**
 * The console's shell: who is logged in (GET /api/me; a 401 anywhere shows the login page), the
 * navigation, and the page the hash names.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, type Me, maybeLoggedIn, onUnauthorized } from './api.js';
import { Admin } from './pages/Admin.js';
import { Alerts } from './pages/Alerts.js';
import { Attack } from './pages/Attack.js';
import { Incident } from './pages/Incident.js';
import { Lists } from './pages/Lists.js';
import { Login } from './pages/Login.js';
import { Overview } from './pages/Overview.js';
import { Rules } from './pages/Rules.js';
import { Sensors } from './pages/Sensors.js';
import { type Route, useRoute } from './router.js';
import { PageTitle } from './ui.js';
import './styles.css';

function Page({ route, me }: { route: Route; me: Me }) {
  switch (route.page) {
    case 'overview':
      return <Overview />;
    case 'alerts':
      return <Alerts me={me} />;
    case 'incident':
      return <Incident key={route.n} me={me} n={route.n} />;
    case 'rules':
      return <Rules me={me} />;
    case 'lists':
      return <Lists me={me} />;
    case 'sensors':
      return <Sensors />;
    case 'admin':
      return <Admin me={me} />;
    case 'attack':
      return <Attack key={route.id} id={route.id} />;
    case 'missing':
      return (
        <section>
          <PageTitle>No such page</PageTitle>
          <p>
            Nothing is at <code>#{route.hash}</code>. Go to the <a href="#/">overview</a>.
          </p>
        </section>
      );
  }
}

function App() {
  const route = useRoute();
  const [me, setMe] = useState<Me | null | 'loading'>('loading');
  const [error, setError] = useState('');

  useEffect(() => {
    onUnauthorized(() => setMe(null));
    if (!maybeLoggedIn()) return setMe(null);
    api<Me>('GET', '/api/me')
      .then((m) => setMe({ name: m.name, role: m.role }))
      .catch((err: unknown) => {
        setMe(null);
        if (!(err instanceof ApiError && err.status === 401)) setError((err as Error).message);
      });
  }, []);

  const logout = async () => {
    try {
      await api('POST', '/api/logout');
    } finally {
      setMe(null);
    }
  };

  if (me === 'loading') return <p class="loading">Loading…</p>;
  const current = (page: Route['page']) => (route.page === page ? 'page' : undefined);
  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">Palisade</span>
        {me !== null && (
          <nav aria-label="Console">
            <a href="#/" aria-current={current('overview')}>
              Overview
            </a>
            <a href="#/alerts" aria-current={current('alerts')}>
              Alert queue
            </a>
            <a href="#/rules" aria-current={current('rules')}>
              Rules
            </a>
            <a href="#/lists" aria-current={current('lists')}>
              Lists
            </a>
            <a href="#/sensors" aria-current={current('sensors')}>
              Sensors
            </a>
            {me.role === 'admin' && (
              <a href="#/admin" aria-current={current('admin')}>
                Admin
              </a>
            )}
          </nav>
        )}
        {me !== null && (
          <span class="who">
            {me.name} ({me.role}){' '}
            <button type="button" onClick={() => void logout()}>
              Log out
            </button>
          </span>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {error !== '' && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {me === null ? <Login onLogin={setMe} /> : <Page route={route} me={me} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
