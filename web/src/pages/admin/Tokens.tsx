/**
 * One account's API tokens: listed without their secrets (the server keeps only a hash), a new
 * one shown once, and revocation behind a second click (a script using the token stops at once).
 */
import { useState } from 'preact/hooks';
import { api } from '../../api.js';
import { usePoll } from '../../poll.js';
import { time } from '../../ui.js';
import type { TokenView } from './types.js';

export function Tokens({ account, onChange }: { account: string; onChange: () => void }) {
  const { data, error, reload } = usePoll<TokenView[]>(`/api/accounts/${encodeURIComponent(account)}/tokens`, 0);
  const [name, setName] = useState('');
  const [made, setMade] = useState<{ name: string; token: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [problem, setProblem] = useState('');

  const act = async (fn: () => Promise<void>) => {
    setProblem('');
    try {
      await fn();
      reload();
      onChange();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };

  const create = (ev: Event) => {
    ev.preventDefault();
    setMade(null);
    void act(async () => {
      const t = await api<TokenView & { token: string }>('POST', `/api/accounts/${encodeURIComponent(account)}/tokens`, { name: name.trim() });
      setMade({ name: t.name, token: t.token });
      setName('');
    });
  };

  const revoke = (t: TokenView) =>
    void act(async () => {
      await api('POST', `/api/tokens/${encodeURIComponent(t.id)}/revoke`, { reason: 'revoked in the console' });
      setConfirming(null);
      // a secret still on screen after its token is gone would only mislead
      setMade(null);
    });

  return (
    <section class="tokens" aria-labelledby="tokens-title">
      <h3 id="tokens-title">API tokens of {account}</h3>
      {(error !== '' || problem !== '') && (
        <p class="error" role="alert">
          {problem || error}
        </p>
      )}
      <form class="inline-form" onSubmit={create}>
        <div>
          <label for="new-token-name">New token for</label>
          <input
            id="new-token-name"
            value={name}
            maxLength={64}
            placeholder="what it is for, e.g. grafana"
            required
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        </div>
        <button type="submit">Create token</button>
      </form>
      <div role="status">
        {made !== null && (
          <p class="once" data-once="token">
            Token <strong>{made.name}</strong>, shown this once (copy it now): <code>{made.token}</code>
          </p>
        )}
      </div>
      {data === null ? (
        <p>Loading…</p>
      ) : data.length === 0 ? (
        <p class="empty">{account} has no API token.</p>
      ) : (
        <table class="list">
          <caption class="visually-hidden">API tokens of {account}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Id</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {data.map((t) => (
              <tr key={t.id} data-token={t.id}>
                <td>{t.name}</td>
                <td class="mono">{t.id}</td>
                <td>{time(t.created_at)}</td>
                <td>{time(t.last_used_at)}</td>
                <td class="actions">
                  {confirming === t.id ? (
                    <>
                      <button type="button" onClick={() => revoke(t)}>
                        Confirm revoke
                      </button>
                      <button type="button" class="secondary" onClick={() => setConfirming(null)}>
                        Cancel
                      </button>
                    </>
                  ) : (
                    <button type="button" class="secondary" onClick={() => setConfirming(t.id)} aria-label={`Revoke ${t.name}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
