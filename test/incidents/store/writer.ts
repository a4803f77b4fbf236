/**
 * A child process for the store's crash and concurrency tests. Modes:
 *   stream SPEC     writes alerts, timeline events and outbox rows until killed, printing each
 *                   id only after the store said it was stored (stdout to a pipe is synchronous on Linux)
 *   incidents SPEC N creates N incidents and prints their numbers
 *   claim SPEC OWNER claims outbox items until none are due, printing each id it marked delivered
 */
import { openStore } from '../../../src/incidents/store/open.js';
import { alert } from './fixtures.js';

const [mode, spec, arg] = process.argv.slice(2);
if (spec === undefined) throw new Error('usage: writer.ts stream|incidents|claim SPEC [ARG]');
const store = await openStore(spec);
const out = (line: string) => process.stdout.write(`${line}\n`);

if (mode === 'stream') {
  const incident = await store.createIncident({ title: 'crash test', severity: 'high' });
  out(`incident ${incident.number}`);
  out('ready');
  for (let i = 0; ; i++) {
    const a = alert(i, { id: `k9-${process.pid}-${i}`, fingerprint: `fp-${process.pid}-${i}` });
    const { alert: stored } = await store.upsertAlert(a);
    out(`alert ${stored.id}`);
    const ev = await store.appendTimeline(incident.number, { at: new Date().toISOString(), kind: 'alert_raised', actor: 'palisade', text: `alert ${stored.id}`, data: { i } });
    out(`timeline ${ev.id}`);
    // An alert and its notification in one commit: both there or neither.
    await store.transaction(async (tx) => {
      await tx.upsertAlert({ ...a, kind: 'update', score: 60 });
      await tx.enqueue([{ key: `alert:${stored.id}:1`, target: 'hook', topic: 'alert.update', payload: { i } }]);
    });
    out(`outbox alert:${stored.id}:1`);
  }
} else if (mode === 'incidents') {
  const n = Number(arg ?? 10);
  for (let i = 0; i < n; i++) out(String((await store.createIncident({ title: `p${process.pid} ${i}`, severity: 'low' })).number));
  await store.close();
} else if (mode === 'claim') {
  const owner = arg ?? `claimer-${process.pid}`;
  for (;;) {
    const items = await store.claimOutbox(owner, 5, 30_000);
    if (items.length === 0) break;
    for (const it of items) if (await store.markDelivered(it.id, owner)) out(String(it.id));
  }
  await store.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
