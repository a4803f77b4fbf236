/** The login page: name and password to POST /api/login, which sets the session and CSRF cookies. */
import { useState } from 'preact/hooks';
import { ApiError, api, type Me } from '../api.js';
import { PageTitle } from '../ui.js';

export function Login({ onLogin }: { onLogin: (me: Me) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setError('');
    try {
      const me = await api<Me>('POST', '/api/login', { name, password });
      onLogin({ name: me.name, role: me.role });
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong name or password.' : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="login">
      <PageTitle>Log in to Palisade</PageTitle>
      <form onSubmit={submit}>
        <label for="login-name">Name</label>
        <input id="login-name" name="name" autocomplete="username" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <label for="login-password">Password</label>
        <input id="login-password" name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        <button type="submit" disabled={busy}>
          Log in
        </button>
        {error !== '' && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
