/**
 * The store and retention: what it holds, and a prune by days that first counts what would go
 * (a dry run) and deletes only when confirmed for those same days. Also the notifications not yet
 * delivered: a growing dead count means a target is failing.
 */
import { useState } from 'preact/hooks';
import { api } from '../../api.js';
import { usePoll } from '../../poll.js';
import { time } from '../../ui.js';
import type { PruneAnswer, StorageView } from './types.js';

const REFRESH_MS = 15_000;

function what(r: PruneAnswer): string {
  const inc = r.incidents.length === 0 ? 'no closed incident' : `${r.incidents.length} closed incident${r.incidents.length === 1 ? '' : 's'} (#${r.incidents.join(', #')})`;
  return `${inc}, ${r.alerts} alerts, ${r.timeline} timeline events, ${r.observables} observables, ${r.mitigations} mitigations, ${r.outbox} notifications, ${r.summaries} per-second summaries`;
}

export function Storage({ onChange }: { onChange: () => void }) {
  const storage = usePoll<StorageView>('/api/storage', REFRESH_MS);
  const notifications = usePoll<{ pending: number; dead: number }>('/api/notifications', REFRESH_MS);
  const [days, setDays] = useState('90');
  const [dry, setDry] = useState<{ days: number; answer: PruneAnswer } | null>(null);
  const [done, setDone] = useState<PruneAnswer | null>(null);
  const [problem, setProblem] = useState('');

  const prune = async (dryRun: boolean) => {
    setProblem('');
    const n = Number(days);
    try {
      const answer = await api<PruneAnswer>('POST', '/api/storage/prune', { incidents_days: n, dry_run: dryRun });
      if (dryRun) {
        setDry({ days: n, answer });
        setDone(null);
      } else {
        setDry(null);
        setDone(answer);
        storage.reload();
        notifications.reload();
        onChange();
      }
    } catch (err) {
      setProblem((err as Error).message);
    }
  };

  const s = storage.data;
  return (
    <>
      <h2>Storage</h2>
      {(storage.error !== '' || problem !== '') && (
        <p class="error" role="alert">
          {problem || storage.error}
        </p>
      )}
      {s !== null && (
        <dl class="summary" data-storage={s.backend}>
          <dt>Backend</dt>
          <dd>
            {s.backend} (schema version {s.schema_version})
          </dd>
          <dt>Per-second summaries</dt>
          <dd>
            {s.summaries.sensors} sensor{s.summaries.sensors === 1 ? '' : 's'}, oldest {time(s.summaries.oldest)}
          </dd>
        </dl>
      )}
      <form
        class="inline-form"
        onSubmit={(ev) => {
          ev.preventDefault();
          void prune(true);
        }}
      >
        <div>
          <label for="prune-days">Delete closed incidents and summaries older than (days)</label>
          <input
            id="prune-days"
            type="number"
            min={1}
            max={3650}
            step={1}
            required
            value={days}
            onInput={(e) => {
              setDays((e.target as HTMLInputElement).value);
              setDry(null);
            }}
          />
        </div>
        <button type="submit">Dry run</button>
      </form>
      <div role="status" data-prune={dry !== null ? 'dry' : done !== null ? 'done' : ''}>
        {dry !== null && (
          <>
            <p>
              Older than {dry.days} days, a prune would delete: {what(dry.answer)}.
            </p>
            <button type="button" onClick={() => void prune(false)}>
              Prune now
            </button>{' '}
            <button type="button" class="secondary" onClick={() => setDry(null)}>
              Cancel
            </button>
          </>
        )}
        {done !== null && <p>Pruned: {what(done)}.</p>}
      </div>
      <h2>Notifications</h2>
      {notifications.error !== '' && (
        <p class="error" role="alert">
          {notifications.error}
        </p>
      )}
      {notifications.data !== null && (
        <p data-outbox-pending={notifications.data.pending} data-outbox-dead={notifications.data.dead}>
          {notifications.data.pending} waiting to be delivered (queued or being retried),{' '}
          {notifications.data.dead > 0 ? <strong>{notifications.data.dead} given up on: a target is failing</strong> : '0 given up on'}.
        </p>
      )}
    </>
  );
}
