/**
 * Accounts: the list with each one's role and state, a new account (its generated password shown
 * once, here, and never again), disable / enable, and the chosen account's API tokens.
 */
import { useState } from 'preact/hooks';
import { api, type Me } from '../../api.js';
import { usePoll } from '../../poll.js';
import { time } from '../../ui.js';
import { Tokens } from './Tokens.js';
import type { AccountView } from './types.js';

export function Accounts({ me, onChange }: { me: Me; onChange: () => void }) {
  const { data, error, reload } = usePoll<AccountView[]>('/api/accounts', 0);
  const [name, setName] = useState('');
  const [role, setRole] = useState('viewer');
  const [made, setMade] = useState<{ name: string; password: string } | null>(null);
  const [problem, setProblem] = useState('');
  const [tokensOf, setTokensOf] = useState<string | null>(null);

  const changed = () => {
    reload();
    onChange();
  };

  const create = async (ev: Event) => {
    ev.preventDefault();
    setProblem('');
    setMade(null);
    try {
      const a = await api<AccountView & { password: string }>('POST', '/api/accounts', { name: name.trim(), role });
      setMade({ name: a.name, password: a.password });
      setName('');
      changed();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };

  const setDisabled = async (a: AccountView, disabled: boolean) => {
    setProblem('');
    try {
      await api('POST', `/api/accounts/${encodeURIComponent(a.name)}/disabled`, { disabled });
      changed();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };

  return (
    <>
      <h2>Accounts</h2>
      {(error !== '' || problem !== '') && (
        <p class="error" role="alert">
          {problem || error}
        </p>
      )}
      <form class="inline-form" onSubmit={(ev) => void create(ev)}>
        <div>
          <label for="new-account-name">New account name</label>
          <input id="new-account-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required pattern="[a-z0-9][a-z0-9._\-]{0,63}" />
        </div>
        <div>
          <label for="new-account-role">Role</label>
          <select id="new-account-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            <option value="viewer">viewer</option>
            <option value="operator">operator</option>
            <option value="admin">admin</option>
          </select>
        </div>
        <button type="submit">Create account</button>
      </form>
      <div role="status">
        {made !== null && (
          <p class="once" data-once="password">
            Password for <strong>{made.name}</strong>, shown this once (copy it now): <code>{made.password}</code>
          </p>
        )}
      </div>
      {data === null ? (
        <p>Loading…</p>
      ) : (
        <table class="list accounts">
          <caption class="visually-hidden">Accounts</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">State</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {data.map((a) => (
              <tr key={a.name} data-account={a.name} data-disabled={String(a.disabled)} class={a.disabled ? 'bad' : undefined}>
                <td>{a.name}</td>
                <td>{a.role}</td>
                <td>{a.disabled ? <strong>disabled</strong> : 'active'}</td>
                <td>
                  {time(a.created_at)} by {a.created_by}
                </td>
                <td class="actions">
                  {a.name !== me.name && (
                    <button type="button" class="secondary" onClick={() => void setDisabled(a, !a.disabled)} aria-label={`${a.disabled ? 'Enable' : 'Disable'} ${a.name}`}>
                      {a.disabled ? 'Enable' : 'Disable'}
                    </button>
                  )}
                  <button
                    type="button"
                    class="secondary"
                    aria-pressed={tokensOf === a.name}
                    onClick={() => setTokensOf(tokensOf === a.name ? null : a.name)}
                    aria-label={`Tokens of ${a.name}`}
                  >
                    Tokens
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {tokensOf !== null && <Tokens key={tokensOf} account={tokensOf} onChange={onChange} />}
    </>
  );
}
