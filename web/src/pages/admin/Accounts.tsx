/**
 * Accounts: the list with each one's role and state, a new account (its generated password shown
 * once, here, and never again), another account's role changed, its password reset after a
 * second click (the new one shown once in the same place; its sessions end), disable / enable,
 * and the chosen account's API tokens. One's own row offers none of the changes: the API refuses
 * one's own role and disabling, and a reset would end this very session.
 */
import { useState } from 'preact/hooks';
import { api, type Me } from '../../api.js';
import { usePoll } from '../../poll.js';
import { time } from '../../ui.js';
import { Tokens } from './Tokens.js';
import type { AccountView } from './types.js';

const ROLES = ['viewer', 'operator', 'admin'] as const;

/** A password on screen once: a new account's or a reset one's. */
interface Shown {
  name: string;
  password: string;
  reset: boolean;
  sessionsEnded: number;
}

export function Accounts({ me, onChange }: { me: Me; onChange: () => void }) {
  const { data, error, reload } = usePoll<AccountView[]>('/api/accounts', 0);
  const [name, setName] = useState('');
  const [role, setRole] = useState('viewer');
  const [made, setMade] = useState<Shown | null>(null);
  const [problem, setProblem] = useState('');
  const [tokensOf, setTokensOf] = useState<string | null>(null);
  /** The role chosen in each row's selector, until changed (absent: the account's own). */
  const [roleOf, setRoleOf] = useState<Record<string, string>>({});
  const [confirmReset, setConfirmReset] = useState<string | null>(null);

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
      setMade({ name: a.name, password: a.password, reset: false, sessionsEnded: 0 });
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

  const changeRole = async (a: AccountView) => {
    const role = roleOf[a.name] ?? a.role;
    setProblem('');
    try {
      await api('POST', `/api/accounts/${encodeURIComponent(a.name)}/role`, { role });
      setRoleOf(({ [a.name]: _, ...rest }) => rest);
      changed();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };

  const resetPassword = async (a: AccountView) => {
    setProblem('');
    setMade(null);
    try {
      const r = await api<{ name: string; password: string; sessions_ended: number }>('POST', `/api/accounts/${encodeURIComponent(a.name)}/password`);
      setMade({ name: r.name, password: r.password, reset: true, sessionsEnded: r.sessions_ended });
      changed();
    } catch (err) {
      setProblem((err as Error).message);
    } finally {
      setConfirmReset(null);
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
            {made.reset ? 'New password' : 'Password'} for <strong>{made.name}</strong>, shown this once (copy it now): <code>{made.password}</code>
            {made.reset && ` (${made.sessionsEnded === 1 ? '1 session' : `${made.sessionsEnded} sessions`} of ${made.name} ended)`}
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
                <td data-role={a.role}>
                  {a.name === me.name ? (
                    a.role
                  ) : (
                    <select
                      aria-label={`Role of ${a.name}`}
                      value={roleOf[a.name] ?? a.role}
                      onChange={(e) => {
                        const v = (e.target as HTMLSelectElement).value;
                        setRoleOf((r) => ({ ...r, [a.name]: v }));
                      }}
                    >
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </select>
                  )}
                </td>
                <td>{a.disabled ? <strong>disabled</strong> : 'active'}</td>
                <td>
                  {time(a.created_at)} by {a.created_by}
                </td>
                <td class="actions">
                  {a.name !== me.name && (
                    <>
                      <button
                        type="button"
                        class="secondary"
                        disabled={(roleOf[a.name] ?? a.role) === a.role}
                        onClick={() => void changeRole(a)}
                        aria-label={`Change role of ${a.name}`}
                      >
                        Change role
                      </button>
                      {confirmReset === a.name ? (
                        <>
                          <button type="button" onClick={() => void resetPassword(a)} aria-label={`Confirm password reset of ${a.name}`}>
                            Confirm reset
                          </button>
                          <button type="button" class="secondary" onClick={() => setConfirmReset(null)} aria-label={`Keep the password of ${a.name}`}>
                            Cancel
                          </button>
                        </>
                      ) : (
                        <button type="button" class="secondary" onClick={() => setConfirmReset(a.name)} aria-label={`Reset password of ${a.name}`}>
                          Reset password
                        </button>
                      )}
                      <button type="button" class="secondary" onClick={() => void setDisabled(a, !a.disabled)} aria-label={`${a.disabled ? 'Enable' : 'Disable'} ${a.name}`}>
                        {a.disabled ? 'Enable' : 'Disable'}
                      </button>
                    </>
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
