/**
 * `palisade alerts list|show|ack|silence|unsilence|silences`: the alert queue a person triages,
 * read from and changed in the store `palisade monitor` writes (--db). Ordered by triage's score
 * (the store sorts); --json prints the records themselves (schema/alert.schema.json).
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { fingerprintSilence, silenceAlert } from '../../incidents/actions.js';
import type { Store } from '../../incidents/store/store.js';
import { ALERT_STATES, type Alert, type AlertState, SEVERITIES, type Severity } from '../../model/alert.js';
import { VECTORS, type Vector } from '../../model/attack.js';
import { fmtBits, fmtInt } from '../../report/terminal.js';
import { compile } from '../../rules/compile.js';
import { alertScheme } from '../../scheme/alert.js';
import { intOption } from '../options.js';
import { actor, choicesOption, durationOption, notFound, printJson, type StoreOpts, severityText, sinceOption, storeOptions, table, timeText, withStore } from '../store-cli.js';

interface ListOpts extends StoreOpts {
  state?: AlertState[];
  severity?: Severity[];
  vector?: Vector[];
  since?: string;
  customer?: string;
  incident?: number;
  limit: number;
}

const EXAMPLES = `
The queue is what \`palisade monitor --db FILE\` raised: one alert per attack, updated in place
while it lasts, ordered by its score (0-100: size against the service's link and usual traffic,
the service's tier, growth, mitigation, confidence). An alert is open, acknowledged (someone is
on it), silenced (kept, but not notified) or ended (the attack stopped).

Alert ids may be shortened to any unique prefix (the 8 characters after "alert-" are enough).

Exit codes: 0 done; 1 no such alert (or a change it cannot take: acknowledging an ended one);
2 usage (a bad flag or value, an ambiguous id); 3 the store cannot be opened or reached.

Examples:
  palisade alerts list                                  the open queue, highest score first
  palisade alerts list --state open,acknowledged --since 2h
  palisade alerts list --severity critical,high --vector tcp_syn_flood --json | jq '.[].victim'
  palisade alerts show 3f2a9c1b                         everything: reasons, signature, sources
  palisade alerts ack 3f2a9c1b --by alice
  palisade alerts silence 3f2a9c1b --for 2h --reason "customer load test"
  palisade alerts silence --expression 'alert.vector == "udp_flood" and alert.customer == "acme"' --for 1d
  palisade alerts unsilence 3f2a9c1b
  palisade alerts silences
  palisade alerts list --db postgres://palisade@db.example/palisade`;

export function register(program: Command): void {
  const alerts = program
    .command('alerts')
    .description('The alert queue: list, show, acknowledge and silence the alerts palisade monitor raised (--db).')
    .addHelpText('after', EXAMPLES);

  storeOptions(
    alerts
      .command('list')
      .description('the alerts, highest score first (default: those not ended)')
      .option('--state <states>', `open, acknowledged, silenced, ended (comma-separated; default all but ended)`, choicesOption('--state', ALERT_STATES))
      .option('--severity <levels>', `${SEVERITIES.join(', ')} (comma-separated)`, choicesOption('--severity', SEVERITIES))
      .option('--vector <vectors>', 'attack vectors, e.g. tcp_syn_flood,dns_amplification (comma-separated)', choicesOption('--vector', VECTORS))
      .option('--since <time>', 'seen at or after this time: ISO-8601, or an age such as 30m, 2h, 1d', sinceOption())
      .option('--customer <name>', "only this customer's services")
      .option('--incident <n>', 'only the alerts of incident N', intOption('--incident', { min: 1 }))
      .option('--limit <n>', 'at most N alerts', intOption('--limit', { min: 1 }), 100),
  ).action((opts: ListOpts) =>
    withStore(opts.db, async (store) => {
      const list = await store.listAlerts({
        state: opts.state ?? ['open', 'acknowledged', 'silenced'],
        ...(opts.severity && { severity: opts.severity }),
        ...(opts.vector && { vector: opts.vector }),
        ...(opts.since && { since: opts.since }),
        ...(opts.customer !== undefined && { customer: opts.customer }),
        ...(opts.incident !== undefined && { incident: opts.incident }),
        limit: opts.limit,
      });
      if (opts.json) return printJson(list);
      if (list.length === 0) {
        process.stdout.write(`no alerts${opts.state ? '' : ' (ended ones are listed with --state ended)'}\n`);
        return;
      }
      process.stdout.write(alertTable(list, process.stdout.isTTY === true));
    }),
  );

  storeOptions(
    alerts.command('show').argument('<id>', 'alert id or a unique prefix of it').description('one alert in full: triage reasons, signature, sources, mitigation'),
  ).action((id: string, opts: StoreOpts) =>
    withStore(opts.db, async (store) => {
      const a = await findAlert(store, id);
      if (a === null) return;
      if (opts.json) return printJson(a);
      process.stdout.write(alertText(a, process.stdout.isTTY === true));
    }),
  );

  storeOptions(
    alerts
      .command('ack')
      .argument('<id>', 'alert id or a unique prefix of it')
      .description('acknowledge: someone is on it (it stays in the queue and keeps being updated)')
      .option('--by <name>', 'who (default: your login name)'),
  ).action((id: string, opts: StoreOpts & { by?: string }) =>
    withStore(opts.db, async (store) => {
      const a = await findAlert(store, id);
      if (a === null) return;
      const by = actor(opts.by);
      if (!(await store.ackAlert(a.id, by))) return notFound(`alert ${a.id} has ended: there is nothing to acknowledge`);
      await done(store, a.id, opts, `acknowledged alert ${a.id} (${a.vector} on ${victimShort(a)}) as ${by}`);
    }),
  );

  storeOptions(
    alerts
      .command('silence')
      .argument('[id]', 'alert id or a unique prefix of it (or give --expression)')
      .description('silence one alert, or every alert an expression matches, for a time')
      .option(
        '--expression <expr>',
        'a Rules-language expression over alert fields (alert.vector, alert.victim.ip, alert.customer, alert.severity, alert.score, ...), e.g. alert.vector == "udp_flood"',
      )
      .requiredOption('--for <duration>', 'how long: 30m, 2h, 1d, 1w', durationOption('--for'))
      .option('--reason <text>', 'why (shown in palisade alerts silences)')
      .option('--by <name>', 'who (default: your login name)'),
  ).action((id: string | undefined, opts: StoreOpts & { expression?: string; for: number; reason?: string; by?: string }) => {
    if ((id === undefined) === (opts.expression === undefined)) throw new UsageError('alerts silence: give an alert id or --expression EXPR (one of the two)');
    if (opts.expression !== undefined && opts.expression.trim() === '') throw new UsageError('alerts silence: --expression is empty');
    // refused here, with the span, rather than silently matching nothing in the monitor
    if (opts.expression !== undefined) compile(opts.expression.trim(), alertScheme);
    return withStore(opts.db, async (store) => {
      const by = actor(opts.by);
      const until = new Date(Date.now() + opts.for).toISOString();
      if (opts.expression !== undefined) {
        const s = await store.addSilence({ expression: opts.expression.trim(), until, created_by: by, reason: opts.reason ?? '' });
        if (opts.json) return printJson(s);
        process.stdout.write(`silence ${s.id} added: ${s.expression} until ${timeText(s.until)} UTC\n`);
        return;
      }
      const a = await findAlert(store, id as string);
      if (a === null) return;
      // One alert: a silence naming its fingerprint, so `alerts silences` shows it and it expires with --for.
      const s = await silenceAlert(store, a, until, by, opts.reason ?? '');
      if (s === null) return notFound(`alert ${a.id} has ended: there is nothing to silence`);
      await done(store, a.id, opts, `silenced alert ${a.id} (${a.vector} on ${victimShort(a)}) until ${timeText(until)} UTC (silence ${s.id})`);
    });
  });

  storeOptions(alerts.command('unsilence').argument('<id>', 'alert id or a unique prefix of it').description('end the silence of an alert (back to open, or acknowledged)')).action(
    (id: string, opts: StoreOpts) =>
      withStore(opts.db, async (store) => {
        const a = await findAlert(store, id);
        if (a === null) return;
        const unsilenced = await store.transaction(async (tx) => {
          if (!(await tx.unsilenceAlert(a.id))) return false;
          // The silence made for this one alert by `alerts silence ID` goes with it.
          const own = (await tx.listSilences()).find((s) => s.id === a.silenced_by && s.expression === fingerprintSilence(a));
          if (own) await tx.removeSilence(own.id);
          return true;
        });
        if (!unsilenced) return notFound(`alert ${a.id} is not silenced (it is ${a.state ?? 'open'})`);
        await done(store, a.id, opts, `unsilenced alert ${a.id} (${a.vector} on ${victimShort(a)})`);
      }),
  );

  storeOptions(
    alerts.command('silences').description('the silences in force (with --all, also the expired ones not yet swept)').option('--all', 'also the silences whose time is over'),
  ).action((opts: StoreOpts & { all?: boolean }) =>
    withStore(opts.db, async (store) => {
      const list = await store.listSilences(opts.all ? undefined : new Date().toISOString());
      if (opts.json) return printJson(list);
      if (list.length === 0) {
        process.stdout.write('no silences\n');
        return;
      }
      process.stdout.write(
        table(
          ['ID', 'UNTIL (UTC)', 'BY', 'REASON', 'EXPRESSION'],
          list.map((s) => [s.id.slice(0, 8), timeText(s.until), s.created_by, s.reason || '-', s.expression]),
        ),
      );
    }),
  );
}

/** After a change: the alert as stored now (--json), or the sentence saying what was done. */
async function done(store: Store, id: string, opts: StoreOpts, said: string): Promise<void> {
  if (opts.json) printJson(await store.getAlert(id));
  else process.stdout.write(`${said}\n`);
}

/**
 * The alert an id names: the exact id, else the one alert whose id starts with it (with or
 * without the `alert-` prefix). None: exit 1 with a message; several: a usage error naming them.
 */
export async function findAlert(store: Store, id: string): Promise<Alert | null> {
  const exact = await store.getAlert(id);
  if (exact !== null) return exact;
  const all = await store.listAlerts({ limit: Number.MAX_SAFE_INTEGER });
  const hits = all.filter((a) => a.id.startsWith(id) || a.id.startsWith(`alert-${id}`));
  if (hits.length === 1) return hits[0] as Alert;
  if (hits.length === 0) {
    notFound(`no alert ${id} (palisade alerts list --state ended shows the ended ones too)`);
    return null;
  }
  throw new UsageError(
    `alert id ${id} is ambiguous: ${hits
      .slice(0, 5)
      .map((a) => a.id)
      .join(', ')}${hits.length > 5 ? ', …' : ''}; give more of it`,
  );
}

/** `alert-3f2a9c1b-…` → `3f2a9c1b`: enough to name it again (a unique prefix). */
export function shortId(id: string): string {
  return id.replace(/^alert-/, '').slice(0, 8);
}

/** The victim in a table cell: `203.0.113.7:443/tcp`, `198.51.100.0/24/udp`, `shop.example (http)`. */
export function victimShort(a: Pick<Alert, 'victim'>): string {
  const v = a.victim;
  if (v.host) return v.ip ? `${v.host} (${v.ip})` : v.host;
  const who = v.ip ?? v.prefix ?? '?';
  return `${who}${v.port !== undefined ? `:${v.port}` : ''}/${v.protocol}`;
}

function alertTable(list: readonly Alert[], colour: boolean): string {
  return table(
    ['SCORE', 'SEVERITY', 'URGENCY', 'STATE', 'VECTOR', 'VICTIM', 'SERVICE/CUSTOMER', 'FIRST SEEN', 'LAST SEEN', 'INC', 'ID'],
    list.map((a) => [
      String(a.score),
      severityText(a.severity, colour),
      a.urgency,
      a.state ?? 'open',
      a.vector,
      victimShort(a),
      serviceText(a),
      timeText(a.first_seen),
      timeText(a.last_seen),
      a.incident_id === null ? '-' : `#${a.incident_id}`,
      shortId(a.id),
    ]),
  );
}

function serviceText(a: Alert): string {
  if (!a.service && !a.customer) return '-';
  return [a.service, a.customer].filter(Boolean).join('/');
}

/** One alert for a person: the header fields, then why (triage), what (the attack) and how to stop it (signature). */
function alertText(a: Alert, colour: boolean): string {
  const x = a.attack;
  const l7 = x.peak_rps !== undefined;
  const rows: [string, string][] = [
    ['id', a.id],
    [
      'state',
      `${a.state ?? 'open'}${a.acked_by ? ` (acknowledged by ${a.acked_by} at ${timeText(a.acked_at)})` : ''}${a.state === 'silenced' && a.silenced_by ? ` (silenced by ${a.silenced_by})` : ''}`,
    ],
    ['score', `${a.score}  severity ${severityText(a.severity, colour)}, urgency ${a.urgency}, confidence ${a.confidence.toFixed(2)}`],
    ['vector', a.vector],
    ['victim', victimShort(a)],
    ['service', serviceText(a)],
    ['sensor', a.sensor],
    ['seen', `${timeText(a.first_seen)} → ${timeText(a.last_seen)} UTC (last event: ${a.kind}, revision ${a.revision ?? 0})`],
    ['incident', a.incident_id === null ? '-' : `#${a.incident_id} (palisade incidents show ${a.incident_id})`],
    [
      'size',
      l7
        ? `${fmtInt(x.requests ?? x.packets)} requests, peak ${fmtInt(Math.round(x.peak_rps ?? 0))} req/s`
        : `${fmtInt(x.packets)} packets, peak ${fmtInt(Math.round(x.peak_pps))} pps, ${fmtBits(x.peak_bps)}`,
    ],
    ['', `${a.growing ? 'growing' : 'not growing'}, ${a.mitigated ? 'held by a mitigation' : 'not mitigated'}`],
    ['sources', `${fmtInt(x.sources.unique)} unique${x.sources.spoofed_likely ? ', likely spoofed' : ''}`],
    ['fingerprint', a.fingerprint],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const out = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
  out.push('', 'why this score:');
  for (const r of a.reasons ?? []) out.push(`  - ${r}`);
  if ((a.reasons ?? []).length === 0) out.push('  (no reasons stored)');
  out.push('', 'signature:');
  if (x.signature === null) out.push('  none met the bar (the mitigation is a rate limit)');
  else {
    out.push(`  ${x.signature.expression}`);
    out.push(`  coverage ${(x.signature.coverage * 100).toFixed(1)} % of the attack, collateral ${(x.signature.collateral * 100).toFixed(2)} % of other traffic`);
  }
  if (x.sources.top.length > 0) {
    out.push('', 'top sources:');
    for (const s of x.sources.top.slice(0, 10)) out.push(`  ${s.ip.padEnd(39)} ${fmtInt(s.packets)}`);
  }
  return `${out.join('\n')}\n`;
}
