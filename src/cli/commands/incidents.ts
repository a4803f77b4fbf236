/**
 * `palisade incidents list|show|assign|note|status|merge|move|report|prune`: the tracking tickets alerts join,
 * read from and changed in the store `palisade monitor` writes (--db). Every change a person makes
 * is also a timeline event of the ticket, in the same transaction, so the timeline tells who did
 * what and when. --json prints the records themselves (schema/incident.schema.json).
 */
import type { Command } from 'commander';
import { PalisadeError, UsageError } from '../../core/errors.js';
import { addNote, assignIncident, openIncident, setIncidentStatus } from '../../incidents/actions.js';
import { incidentReportInput } from '../../incidents/report-input.js';
import type { IncidentSummary, PruneResult, Store } from '../../incidents/store/store.js';
import { type Alert, SEVERITIES, type Severity } from '../../model/alert.js';
import { INCIDENT_STATUSES, type Incident, type IncidentStatus, OBSERVABLE_KINDS } from '../../model/incident.js';
import { formatOf, makeIncidentReport } from '../../report/index.js';
import { intOption, parseIntArg } from '../options.js';
import { actor, choicesOption, durationOption, notFound, printJson, type StoreOpts, severityText, sinceOption, storeOptions, table, timeText, withStore } from '../store-cli.js';
import { findAlert, shortId, victimShort } from './alerts.js';

interface ListOpts extends StoreOpts {
  status?: IncidentStatus[];
  severity?: Severity[];
  customer?: string;
  assignee?: string;
  since?: string;
  limit: number;
}

type ByOpts = StoreOpts & { by?: string };

/** Observables of one kind shown by `incidents show` before a count of the rest. */
const OBSERVABLES_SHOWN = 10;

const EXAMPLES = `
An incident is the ticket alerts join (palisade monitor groups the alerts of one victim network,
or of shared sources, into one). Its status runs new → investigating → mitigating → monitoring
→ resolved, or false_positive. Every change made here is written on its timeline with who made
it (--by, default your login name).

Exit codes: 0 done; 1 no such incident or alert (or a change it cannot take); 2 usage (a bad
status or flag); 3 the store cannot be opened or reached (and, for report, no such incident:
it is the report's input, as a missing analysis file is for palisade report).

Examples:
  palisade incidents list                                  open tickets, newest first
  palisade incidents list --status new,investigating --customer acme --since 1d
  palisade incidents show 12                               timeline, observables, mitigations, alerts
  palisade incidents assign 12 alice
  palisade incidents note 12 "customer confirmed: not a load test" --by bob
  palisade incidents status 12 mitigating --note "nftables rule loaded on edge-1"
  palisade incidents merge 12 14                           #14's alerts and timeline join #12
  palisade incidents move 3f2a9c1b 15                      that alert belongs to #15 instead
  palisade incidents show 12 --json --db postgres://palisade@db.example/palisade
  palisade incidents report 12 -o incident-12.html --tz Europe/Paris
  palisade incidents report 12 -o - --format md | mail -s "incident 12" noc@example.net
  palisade incidents prune --older-than 90d --summaries-older-than 30d --dry-run`;

interface PruneOpts extends StoreOpts {
  olderThan: number;
  summariesOlderThan?: number;
  dryRun?: boolean;
}

interface ReportOpts extends StoreOpts {
  output: string;
  format?: string;
  tz?: string;
  customer?: string;
}

export function register(program: Command): void {
  const incidents = program
    .command('incidents')
    .description('The incident tickets: list, show, assign, annotate, change status, merge, move alerts, report, prune (--db).')
    .addHelpText('after', EXAMPLES);

  storeOptions(
    incidents
      .command('list')
      .description('the tickets, newest first (default: the open ones)')
      .option('--status <statuses>', `${INCIDENT_STATUSES.join(', ')} (comma-separated; default all but resolved and false_positive)`, choicesOption('--status', INCIDENT_STATUSES))
      .option('--severity <levels>', `${SEVERITIES.join(', ')} (comma-separated)`, choicesOption('--severity', SEVERITIES))
      .option('--customer <name>', "only this customer's tickets")
      .option('--assignee <name>', 'only the tickets assigned to NAME')
      .option('--since <time>', 'changed at or after this time: ISO-8601, or an age such as 30m, 2h, 1d', sinceOption())
      .option('--limit <n>', 'at most N tickets', intOption('--limit', { min: 1 }), 100),
  ).action((opts: ListOpts) =>
    withStore(opts.db, async (store) => {
      const list = await store.listIncidents({
        status: opts.status ?? INCIDENT_STATUSES.filter((s) => s !== 'resolved' && s !== 'false_positive'),
        ...(opts.severity && { severity: opts.severity }),
        ...(opts.customer !== undefined && { customer: opts.customer }),
        ...(opts.assignee !== undefined && { assignee: opts.assignee }),
        ...(opts.since && { since: opts.since }),
        limit: opts.limit,
      });
      // The records in full, as the schema has them (a list row lacks the timeline).
      if (opts.json) return printJson((await Promise.all(list.map((i) => store.getIncident(i.number)))).filter((i) => i !== null));
      if (list.length === 0) {
        process.stdout.write(`no incidents${opts.status ? '' : ' open (closed ones are listed with --status resolved,false_positive)'}\n`);
        return;
      }
      process.stdout.write(incidentTable(list, process.stdout.isTTY === true));
    }),
  );

  storeOptions(incidents.command('show').argument('<n>', 'incident number').description('one ticket: its alerts, observables, mitigations and timeline in time order')).action(
    (n: string, opts: StoreOpts) =>
      withStore(opts.db, async (store) => {
        const inc = await findIncident(store, n);
        if (inc === null) return;
        if (opts.json) return printJson(inc);
        process.stdout.write(await incidentText(store, inc, process.stdout.isTTY === true));
      }),
  );

  storeOptions(
    incidents
      .command('assign')
      .argument('<n>', 'incident number')
      .argument('<name>', 'who takes it (- to unassign)')
      .description('give the ticket to someone')
      .option('--by <name>', 'who assigns (default: your login name)'),
  ).action((n: string, name: string, opts: ByOpts) =>
    withStore(opts.db, async (store) => {
      const inc = await findIncident(store, n);
      if (inc === null) return;
      const to = name === '-' ? null : name.trim();
      if (to === '') throw new UsageError('incidents assign: the name is empty (- unassigns)');
      const text = await assignIncident(store, inc, to, actor(opts.by));
      await done(store, inc.number, opts, `incident #${inc.number} ${text}`);
    }),
  );

  storeOptions(
    incidents
      .command('note')
      .argument('<n>', 'incident number')
      .argument('<text...>', 'the note (quote it, or give several words)')
      .description('add a note to the timeline')
      .option('--by <name>', 'who writes it (default: your login name)'),
  ).action((n: string, words: string[], opts: ByOpts) =>
    withStore(opts.db, async (store) => {
      const text = words.join(' ').trim();
      if (text === '') throw new UsageError('incidents note: the note is empty');
      const inc = await findIncident(store, n);
      if (inc === null) return;
      const by = actor(opts.by);
      const ev = await addNote(store, inc.number, text, by);
      await done(store, inc.number, opts, `note added to incident #${inc.number} by ${by} at ${timeText(ev.at)} UTC`);
    }),
  );

  storeOptions(
    incidents
      .command('status')
      .argument('<n>', 'incident number')
      .argument('<status>', INCIDENT_STATUSES.join(' | '))
      .description('move the ticket along: new, investigating, mitigating, monitoring, resolved, false_positive')
      .option('--note <text>', 'why (written on the timeline with the change)')
      .option('--by <name>', 'who (default: your login name)'),
  ).action((n: string, status: string, opts: ByOpts & { note?: string }) => {
    if (!(INCIDENT_STATUSES as readonly string[]).includes(status)) throw new UsageError(`incidents status: "${status}" is not a status (${INCIDENT_STATUSES.join(', ')})`);
    const next = status as IncidentStatus;
    return withStore(opts.db, async (store) => {
      const inc = await findIncident(store, n);
      if (inc === null) return;
      if (inc.merged_into != null) return notFound(`incident #${inc.number} was merged into #${inc.merged_into}: change that one`);
      if (inc.status === next) {
        if (opts.json) return printJson(inc);
        process.stdout.write(`incident #${inc.number} is already ${next}: nothing changed\n`);
        return;
      }
      const text = await setIncidentStatus(store, inc, next, actor(opts.by), opts.note);
      await done(store, inc.number, opts, `incident #${inc.number}: ${text}`);
    });
  });

  storeOptions(
    incidents
      .command('merge')
      .argument('<into>', 'the incident that stays')
      .argument('<from>', 'the incident merged into it (it becomes a resolved pointer)')
      .description('merge two tickets about the same attack: alerts, timeline, observables and mitigations of FROM join INTO')
      .option('--by <name>', 'who (default: your login name)'),
  ).action((intoText: string, fromText: string, opts: ByOpts) =>
    withStore(opts.db, async (store) => {
      const into = await findIncident(store, intoText);
      if (into === null) return;
      const from = await findIncident(store, fromText);
      if (from === null) return;
      if (into.number === from.number) throw new UsageError(`incidents merge: #${into.number} cannot be merged into itself`);
      if (from.merged_into != null) return notFound(`incident #${from.number} was already merged into #${from.merged_into}`);
      if (into.merged_into != null) return notFound(`incident #${into.number} was merged into #${into.merged_into}: merge into that one`);
      const merged = await store.mergeIncidents(into.number, from.number, actor(opts.by));
      if (opts.json) return printJson(merged);
      process.stdout.write(
        `merged incident #${from.number} into #${into.number}: ${from.alerts.length} alert(s), ${from.timeline.length} timeline event(s), ${from.observables.length} observable(s), ${from.mitigations.length} mitigation(s) moved; #${from.number} is now resolved and points to #${into.number}\n`,
      );
    }),
  );

  storeOptions(
    incidents
      .command('split')
      .argument('<n>', 'the incident to split')
      .argument('<alerts...>', 'the alerts (ids or unique prefixes) that leave it for a new ticket')
      .description('split a ticket: the alerts named leave it for a new incident (timeline events on both)')
      .option('--title <text>', "the new ticket's title (default: the first alert's vector and victim)")
      .option('--by <name>', 'who (default: your login name)'),
  ).action((n: string, alertIds: string[], opts: ByOpts & { title?: string }) =>
    withStore(opts.db, async (store) => {
      const from = await findIncident(store, n);
      if (from === null) return;
      if (from.merged_into != null) return notFound(`incident #${from.number} was merged into #${from.merged_into}: split that one`);
      const moving: Alert[] = [];
      for (const id of alertIds) {
        const a = await findAlert(store, id);
        if (a === null) return;
        if (a.incident_id !== from.number)
          throw new UsageError(`alert ${a.id} is in ${a.incident_id === null ? 'no incident' : `incident #${a.incident_id}`}, not #${from.number}`);
        if (!moving.some((m) => m.id === a.id)) moving.push(a);
      }
      const all = await store.listAlerts({ incident: from.number, limit: 1_000_000 });
      if (moving.length >= all.length) throw new UsageError(`those are all of incident #${from.number}'s alerts: nothing would be left to split from`);
      const first = moving[0] as (typeof moving)[number];
      const to = await openIncident(store, moving, actor(opts.by), { title: opts.title ?? `${first.vector} on ${victimShort(first)}`, customer: from.customer ?? null });
      await done(store, to.number, opts, `split ${moving.length} alert(s) from incident #${from.number} into the new incident #${to.number}: ${to.title}`);
    }),
  );
  storeOptions(
    incidents
      .command('move')
      .argument('<alert>', 'alert id or a unique prefix of it')
      .argument('<n>', 'the incident it belongs to')
      .description('move an alert to another ticket (a timeline event on both)')
      .option('--by <name>', 'who (default: your login name)'),
  ).action((alertId: string, n: string, opts: ByOpts) =>
    withStore(opts.db, async (store) => {
      const to = await findIncident(store, n);
      if (to === null) return;
      const a = await findAlert(store, alertId);
      if (a === null) return;
      if (a.incident_id === to.number) {
        if (opts.json) return printJson(to);
        process.stdout.write(`alert ${a.id} is already in incident #${to.number}: nothing changed\n`);
        return;
      }
      if (to.merged_into != null) return notFound(`incident #${to.number} was merged into #${to.merged_into}: move the alert there`);
      if (!(await store.moveAlert(a.id, to.number, actor(opts.by)))) return notFound(`no alert ${a.id}`);
      await done(
        store,
        to.number,
        opts,
        `moved alert ${a.id} (${a.vector} on ${victimShort(a)}) ${a.incident_id === null ? 'into' : `from #${a.incident_id} to`} incident #${to.number}`,
      );
    }),
  );
  storeOptions(
    incidents
      .command('report')
      .argument('<n>', 'incident number')
      .description('the attack report of a ticket (HTML, Markdown or PDF): its attacks, its traffic from the stored summaries, its timeline and mitigations')
      .requiredOption('-o, --output <file>', 'report file: .html (self-contained page), .md (tickets, e-mail) or .pdf (needs chromium); - for stdout with --format')
      .option('--format <fmt>', 'html, md or pdf (default: from the output file name)')
      .option('--tz <zone>', "customer's IANA time zone, e.g. Europe/Paris (times are always also given in UTC)")
      .option('--customer <name>', "customer name shown on the report (default: the ticket's customer)")
      .addHelpText(
        'after',
        `
The report is palisade report's, made from the store instead of an analysis: the attacks are the
incident's alerts' (their latest state), the traffic chart and figures come from the per-second
summaries of the alerts' sensors from a minute before the first attack to a minute after the
last, and an incident section gives the ticket, its alerts, its timeline (automatic and people's
entries in order), the mitigations with their state and hits, and its observables. Summaries
hold packets, bytes and open attacks per second, not packets: the protocol mix, top talkers and
the what-if replay are left out, and the report says so. --json prints what was written.

Exit codes: 0 written; 2 usage (a bad format or time zone); 3 no such incident, the store cannot
be opened, or chromium is missing for PDF.

Examples:
  palisade incidents report 12 -o incident-12.html --tz Europe/Paris
  palisade incidents report 12 -o incident-12.md
  palisade incidents report 12 -o incident-12.pdf --db postgres://palisade@db.example/palisade
  palisade incidents report 12 -o - --format md > ticket.md`,
      ),
  ).action((n: string, opts: ReportOpts) =>
    withStore(opts.db, async (store) => {
      const number = parseIntArg('incident number', n.replace(/^#/, ''), { min: 1 });
      const input = await incidentReportInput(store, number);
      if (input === null)
        throw new PalisadeError('E_INPUT', `no incident #${number} in ${opts.db} (palisade incidents list --status ${INCIDENT_STATUSES.join(',')} lists them all)`);
      const data = await makeIncidentReport(input, opts.output, {
        sink: (c) => process.stdout.write(c),
        format: opts.format,
        tz: opts.tz,
        customer: opts.customer,
      });
      const written = {
        incident: number,
        output: opts.output,
        format: formatOf(opts.output, opts.format),
        attacks: data.analysis.attacks.length,
        sensors: input.traffic.sensors,
        from: new Date(input.traffic.from * 1000).toISOString(),
        to: new Date(input.traffic.to * 1000).toISOString(),
        seconds: input.traffic.seconds.length,
        timeline: input.incident.timeline.length,
        mitigations: input.incident.mitigations.length,
      };
      // With -o - the report itself is on stdout: the account of it goes to stderr.
      if (opts.json && opts.output !== '-') printJson(written);
      else if (opts.output !== '-') process.stderr.write(`palisade: report of incident #${number} written to ${opts.output}\n`);
    }),
  );
  storeOptions(
    incidents
      .command('prune')
      .description('retention: delete closed incidents (with their alerts, timeline, observables, mitigations, notifications) and per-second summaries older than an age')
      .requiredOption('--older-than <age>', 'closed (resolved, false_positive) incidents last changed longer ago than this: 90d, 12w, …', durationOption('--older-than'))
      .option('--summaries-older-than <age>', 'per-second summaries older than this (default: --older-than)', durationOption('--summaries-older-than'))
      .option('--dry-run', 'say what would be deleted; delete nothing')
      .addHelpText(
        'after',
        `
Everything goes in one transaction, so a prune that fails deletes nothing. An open incident is
never deleted, whatever its age, nor a closed one with an alert seen within the age (closed
while the attack went on). An incident's last change is its closing unless someone touched it
since. --json prints the counts (and the incident numbers).

Examples:
  palisade incidents prune --older-than 90d --dry-run
  palisade incidents prune --older-than 90d --summaries-older-than 30d
  palisade incidents prune --older-than 180d --db postgres://palisade@db.example/palisade --json`,
      ),
  ).action((opts: PruneOpts) =>
    withStore(opts.db, async (store) => {
      const now = Date.now();
      const incidentsBefore = new Date(now - opts.olderThan).toISOString();
      const summariesBefore = Math.floor((now - (opts.summariesOlderThan ?? opts.olderThan)) / 1000);
      const r = await store.prune({ incidentsBefore, summariesBefore, dryRun: opts.dryRun === true });
      const summariesIso = new Date(summariesBefore * 1000).toISOString();
      if (opts.json)
        return printJson({
          dry_run: opts.dryRun === true,
          incidents_before: incidentsBefore,
          summaries_before: summariesIso,
          deleted: { ...r, incidents: r.incidents.length, incident_numbers: r.incidents },
        });
      process.stdout.write(pruneText(r, opts.dryRun === true, incidentsBefore, summariesIso));
    }),
  );
}

/** What prune did, in a sentence or two. */
function pruneText(r: PruneResult, dry: boolean, incidentsBefore: string, summariesBefore: string): string {
  const verb = dry ? 'would delete' : 'deleted';
  const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
  const shown = r.incidents.slice(0, 20).map((n) => `#${n}`);
  const numbers = r.incidents.length === 0 ? '' : ` (${shown.join(', ')}${r.incidents.length > shown.length ? `, … ${r.incidents.length - shown.length} more` : ''})`;
  const lines = [
    `${verb} ${count(r.incidents.length, 'closed incident')}${numbers} last changed before ${timeText(incidentsBefore)} UTC: ${count(r.alerts, 'alert')}, ${count(r.timeline, 'timeline entry', 'timeline entries')}, ${count(r.observables, 'observable')}, ${count(r.mitigations, 'mitigation')}, ${count(r.outbox, 'notification')}`,
    `${verb} ${count(r.summaries, 'per-second summary', 'per-second summaries')} before ${timeText(summariesBefore)} UTC`,
  ];
  if (dry) lines.push('dry run: nothing was deleted');
  return `${lines.join('\n')}\n`;
}

/** After a change: the incident as stored now (--json), or the sentence saying what was done. */
async function done(store: Store, n: number, opts: StoreOpts, said: string): Promise<void> {
  if (opts.json) printJson(await store.getIncident(n));
  else process.stdout.write(`${said}\n`);
}

/** The incident a number names; not a number is a usage error, no such incident exit 1. */
async function findIncident(store: Store, text: string): Promise<Incident | null> {
  const n = parseIntArg('incident number', text.replace(/^#/, ''), { min: 1 });
  const inc = await store.getIncident(n);
  if (inc === null) notFound(`no incident #${n} (palisade incidents list --status ${INCIDENT_STATUSES.join(',')} lists them all)`);
  return inc;
}

function incidentTable(list: readonly IncidentSummary[], colour: boolean): string {
  return table(
    ['#', 'STATUS', 'SEVERITY', 'CUSTOMER', 'ASSIGNEE', 'ALERTS', 'CREATED', 'UPDATED', 'TITLE'],
    list.map((i) => [
      String(i.number),
      i.merged_into != null ? `merged→#${i.merged_into}` : i.status,
      severityText(i.severity, colour),
      i.customer ?? '-',
      i.assignee ?? '-',
      String(i.alerts.length),
      timeText(i.created_at),
      timeText(i.updated_at),
      i.title,
    ]),
  );
}

/** One ticket for a person: header, alerts (by score), observables, mitigations, then the timeline in time order. */
async function incidentText(store: Store, inc: Incident, colour: boolean): Promise<string> {
  const out: string[] = [];
  out.push(`incident #${inc.number}: ${inc.title}`);
  const head: [string, string][] = [
    ['status', `${inc.status}${inc.merged_into != null ? ` (merged into #${inc.merged_into})` : ''}`],
    ['severity', severityText(inc.severity, colour)],
    ['customer', inc.customer ?? '-'],
    ['assignee', inc.assignee ?? '-'],
    ['tags', inc.tags.length > 0 ? inc.tags.join(', ') : '-'],
    ['opened', `${timeText(inc.created_at)} UTC, last change ${timeText(inc.updated_at)} UTC`],
  ];
  for (const [k, v] of head) out.push(`  ${k.padEnd(9)} ${v}`);

  const alerts = await store.listAlerts({ incident: inc.number, limit: Number.MAX_SAFE_INTEGER });
  out.push('', `alerts (${alerts.length}):`);
  if (alerts.length === 0) out.push('  none');
  else
    out.push(
      indent(
        table(
          ['SCORE', 'SEVERITY', 'STATE', 'VECTOR', 'VICTIM', 'FIRST SEEN', 'LAST SEEN', 'ID'],
          alerts.map((a) => [
            String(a.score),
            severityText(a.severity, colour),
            a.state ?? 'open',
            a.vector,
            victimShort(a),
            timeText(a.first_seen),
            timeText(a.last_seen),
            shortId(a.id),
          ]),
        ),
      ),
    );

  out.push('', `observables (${inc.observables.length}):`);
  if (inc.observables.length === 0) out.push('  none');
  // By kind (victims and signatures are few, attacking addresses many): the first of each, then a count.
  for (const kind of OBSERVABLE_KINDS) {
    const of = inc.observables.filter((o) => o.kind === kind);
    for (const o of of.slice(0, OBSERVABLES_SHOWN)) out.push(`  ${kind.padEnd(9)} ${o.value}`);
    if (of.length > OBSERVABLES_SHOWN) out.push(`  ${kind.padEnd(9)} … ${of.length - OBSERVABLES_SHOWN} more (--json lists them all)`);
  }

  out.push('', `mitigations (${inc.mitigations.length}):`);
  if (inc.mitigations.length === 0) out.push('  none');
  else
    out.push(
      indent(
        table(
          ['ID', 'TARGET', 'STATE', 'HITS', 'UPDATED'],
          inc.mitigations.map((m) => [m.id ?? m.target, m.target, m.state, m.hits.toLocaleString('en-US'), timeText(m.updated_at)]),
        ),
      ),
    );

  out.push('', `timeline (${inc.timeline.length}, UTC):`);
  if (inc.timeline.length === 0) out.push('  none');
  // The store returns it in time order (then insertion order).
  const kindW = Math.max(0, ...inc.timeline.map((e) => e.kind.length));
  const actorW = Math.max(0, ...inc.timeline.map((e) => e.actor.length));
  for (const e of inc.timeline) out.push(`  ${timeText(e.at)}  ${e.kind.padEnd(kindW)}  ${e.actor.padEnd(actorW)}  ${e.text}`);
  return `${out.join('\n')}\n`;
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
