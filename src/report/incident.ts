/**
 * The parts of a report that only a stored incident has (`palisade incidents report`): the ticket
 * (number, title, customer, status, severity, assignee, tags), its alerts, its timeline in order
 * (automatic entries told from people's), observables, the mitigations applied with their state
 * and hits, and the traffic as the per-second summaries hold it, with what they cannot tell said
 * plainly instead of the capture report's protocol chart and top lists. HTML and Markdown, from
 * the same facts; every stored string is escaped as the rest of the report's are.
 */
import { stringify } from 'yaml';
import type { Incident, Mitigation, TimelineEvent } from '../model/incident.js';
import { escapeHtml as e, fmtBits, fmtBytes, fmtInt, fmtUtc, fmtZoned, escapeMd as m, mdCodeBlock, vectorName, victimText } from './format.js';
import type { IncidentReport, OpenRow, ReportData } from './model.js';

/** Observables of one kind listed before a count of the rest (an attack can add thousands of sources). */
const OBSERVABLES_SHOWN = 50;
/** Mitigations whose ruleset is printed in full. */
const RULESETS_SHOWN = 10;

/** What a summary cannot give, said once for both renderers. */
export const SUMMARY_LIMITS =
  'The store keeps, per sensor and second, the packets, bytes and requests seen and how many attacks were open (by vector and by victim), not the traffic itself. ' +
  "So this report has no protocol mix, no top sources, destinations or ports, no per-vector traffic lines and no what-if replay: those need the capture (palisade analyze on a capture of the incident's span gives them).";

export function incidentTitle(i: IncidentReport): string {
  return `Incident #${i.ticket.number}: ${i.ticket.title}`;
}

/** An entry made by Palisade itself (a sensor, the monitor) rather than by a person. */
export function automatic(i: IncidentReport, ev: TimelineEvent): boolean {
  return ev.actor === 'palisade' || i.traffic.sensors.includes(ev.actor) || i.alerts.some((a) => a.sensor === ev.actor);
}

function statusText(t: Incident): string {
  return `${t.status}${t.merged_into != null ? ` (merged into #${t.merged_into})` : ''}`;
}

function rulesetText(r: unknown): string {
  if (r === null || r === undefined) return '';
  if (typeof r === 'string') return r.replace(/\n+$/, '');
  return stringify(r, { lineWidth: 0 }).replace(/\n+$/, '');
}

function spanText(i: IncidentReport): string {
  const t = i.traffic;
  return `${fmtUtc(new Date(t.from * 1000).toISOString())} to ${fmtUtc(new Date(t.to * 1000).toISOString())}`;
}

function openName(kind: 'vector' | 'victim', key: string): string {
  return kind === 'vector' ? `${vectorName(key)} (${key})` : key;
}

// ---- HTML

function whenHtml(d: ReportData, iso: string): string {
  return d.tz ? `${e(fmtUtc(iso))}<br><span class="note">${e(`${fmtZoned(iso, d.tz)} (${d.tz})`)}</span>` : e(fmtUtc(iso));
}

function tableHtml(head: string[], rows: string[][], numeric: boolean[] = [], none = 'None.'): string {
  if (rows.length === 0) return `<p class="note">${e(none)}</p>`;
  const th = head.map((h, i) => `<th${numeric[i] ? ' class="n"' : ''}>${e(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

function mitigationRowHtml(mt: Mitigation): string[] {
  return [
    `<code>${e(mt.id ?? mt.target)}</code>`,
    e(mt.target),
    `<span data-k="mitigation_state">${e(mt.state)}</span>`,
    `<span data-k="mitigation_hits" data-v="${e(mt.hits)}">${e(fmtInt(mt.hits))}</span>`,
    mt.updated_at ? e(fmtUtc(mt.updated_at)) : '-',
  ];
}

/** The ticket: facts, alerts, timeline, observables, mitigations. */
export function incidentHtml(d: ReportData, i: IncidentReport): string {
  const t = i.ticket;
  const facts: Array<[string, string]> = [
    ['Number', `<span data-k="incident_number">#${e(t.number)}</span>`],
    ['Title', `<span data-k="incident_title">${e(t.title)}</span>`],
    ['Customer', e(t.customer ?? '-')],
    ['Status', `<span data-k="incident_status">${e(statusText(t))}</span>`],
    ['Severity', `<span data-k="incident_severity">${e(t.severity)}</span>`],
    ['Assignee', e(t.assignee ?? '-')],
    ['Tags', e(t.tags.length > 0 ? t.tags.join(', ') : '-')],
    ['Opened', whenHtml(d, t.created_at)],
    ['Last change', whenHtml(d, t.updated_at)],
    ['Sensors', e(i.traffic.sensors.join(', ') || '-')],
  ];
  const alerts = tableHtml(
    ['Alert', 'Vector', 'Victim', 'Severity', 'Score', 'State', 'First seen', 'Last seen'],
    i.alerts.map((a) => [
      `<code>${e(a.id)}</code>`,
      e(vectorName(a.vector)),
      e(victimText(a.victim)),
      e(a.severity),
      e(a.score),
      e(a.state ?? 'open'),
      e(fmtUtc(a.first_seen)),
      e(fmtUtc(a.last_seen)),
    ]),
    [false, false, false, false, true],
    'No alert belongs to this incident.',
  );
  const timeline = tableHtml(
    ['Time', 'Kind', 'By', 'What'],
    t.timeline.map((ev) => [
      whenHtml(d, ev.at),
      `<code>${e(ev.kind)}</code>`,
      `${e(ev.actor)}${automatic(i, ev) ? ' <span class="note">(automatic)</span>' : ''}`,
      `<span data-k="timeline_text">${e(ev.text)}</span>`,
    ]),
    [],
    'The timeline is empty.',
  );
  const kinds = [...new Set(t.observables.map((o) => o.kind))];
  const observables =
    t.observables.length === 0
      ? '<p class="note">None.</p>'
      : kinds
          .map((k) => {
            const of = t.observables.filter((o) => o.kind === k);
            const more =
              of.length > OBSERVABLES_SHOWN
                ? `<p class="note">… and ${e(fmtInt(of.length - OBSERVABLES_SHOWN))} more ${e(k)} (palisade incidents show ${e(t.number)} --json lists them all).</p>`
                : '';
            return `${tableHtml(
              ['Kind', 'Value', 'First seen'],
              of.slice(0, OBSERVABLES_SHOWN).map((o) => [e(o.kind), `<code>${e(o.value)}</code>`, o.first_seen ? e(fmtUtc(o.first_seen)) : '-']),
            )}${more}`;
          })
          .join('\n');
  const rulesets = t.mitigations
    .filter((mt) => rulesetText(mt.ruleset) !== '')
    .slice(0, RULESETS_SHOWN)
    .map((mt) => `<p class="note">${e(mt.id ?? mt.target)} (${e(mt.target)}):</p><pre><code>${e(rulesetText(mt.ruleset))}</code></pre>`)
    .join('\n');
  return `<section id="incident">
<h2>Incident</h2>
<dl class="facts">${facts.map(([k, v]) => `<dt>${e(k)}</dt><dd>${v}</dd>`).join('')}</dl>
<h3>Alerts</h3>
${alerts}
<h3>Timeline</h3>
<p class="note">In time order, as stored: entries by a sensor or Palisade are marked automatic, the others were made by people.</p>
<div data-k="timeline">${timeline}</div>
<h3>Mitigations</h3>
${tableHtml(['Mitigation', 'Target', 'State', 'Hits', 'Updated (UTC)'], t.mitigations.map(mitigationRowHtml), [false, false, false, true, false], 'No mitigation was applied or suggested.')}
${rulesets}
<h3>Observables</h3>
${observables}
</section>`;
}

function openTableHtml(kind: 'vector' | 'victim', rows: OpenRow[]): string {
  return tableHtml(
    [kind === 'vector' ? 'Vector' : 'Victim', 'Seconds open', 'Most open at once'],
    rows.map((r) => [e(openName(kind, r.key)), e(fmtInt(r.seconds)), e(fmtInt(r.most))]),
    [false, true, true],
    'No attack was open in any stored second.',
  );
}

/** The traffic as the summaries hold it, in place of the capture report's protocols and appendix. */
export function storedTrafficHtml(i: IncidentReport): string {
  const t = i.traffic;
  const rows: Array<[string, string]> = [
    ['Sensors', e(t.sensors.join(', ') || '-')],
    ['Span (UTC)', e(spanText(i))],
    ['Seconds with a summary', `<span data-k="stored_seconds" data-v="${t.seconds.length}">${e(fmtInt(t.seconds.length))}</span> of ${e(fmtInt(Math.max(0, t.to - t.from)))}`],
    ['Packets', `<span data-k="stored_packets" data-v="${i.packets}">${e(fmtInt(i.packets))}</span>`],
    ['Bytes', `<span data-k="stored_bytes" data-v="${i.bytes}">${e(fmtInt(i.bytes))}</span> (${e(fmtBytes(i.bytes))})`],
    [
      'Peak (1 s)',
      `<span data-k="stored_peak_pps" data-v="${i.peak_pps}">${e(fmtInt(i.peak_pps))} packets/s</span>, <span data-k="stored_peak_bps" data-v="${i.peak_bps}">${e(fmtBits(i.peak_bps))}</span>`,
    ],
  ];
  if (i.requests > 0)
    rows.push(
      ['Requests', `<span data-k="stored_requests" data-v="${i.requests}">${e(fmtInt(i.requests))}</span>`],
      ['Peak requests (1 s)', `<span data-k="stored_peak_rps" data-v="${i.peak_rps}">${e(fmtInt(i.peak_rps))} requests/s</span>`],
    );
  return `<section id="stored-traffic">
<h2>Traffic as stored</h2>
<p class="note" data-k="summary_limits">${e(SUMMARY_LIMITS)}</p>
<table><tbody>${rows.map(([k, v]) => `<tr><th>${e(k)}</th><td>${v}</td></tr>`).join('')}</tbody></table>
<h3>Open attacks by vector</h3>
${openTableHtml('vector', i.openByVector)}
<h3>Open attacks by victim</h3>
${openTableHtml('victim', i.openByVictim)}
</section>`;
}

// ---- Markdown

function whenMd(d: ReportData, iso: string): string {
  return d.tz ? `${m(fmtUtc(iso))} (${m(`${fmtZoned(iso, d.tz)}, ${d.tz}`)})` : m(fmtUtc(iso));
}

function tableMd(head: string[], rows: string[][], numeric: boolean[] = [], none = 'None.'): string {
  if (rows.length === 0) return `_${none}_`;
  const sep = head.map((_, i) => (numeric[i] ? '---:' : '---'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** Inline code for short values; escaped text when the value holds a backtick or a pipe. */
function code(s: string): string {
  return /[`|\r\n]/.test(s) || s === '' ? m(s) : `\`${s}\``;
}

export function incidentMarkdown(d: ReportData, i: IncidentReport): string {
  const t = i.ticket;
  const out: string[] = ['## Incident', ''];
  out.push(
    tableMd(
      ['', ''],
      [
        ['Number', `#${t.number}`],
        ['Title', m(t.title)],
        ['Customer', m(t.customer ?? '-')],
        ['Status', m(statusText(t))],
        ['Severity', m(t.severity)],
        ['Assignee', m(t.assignee ?? '-')],
        ['Tags', m(t.tags.length > 0 ? t.tags.join(', ') : '-')],
        ['Opened', whenMd(d, t.created_at)],
        ['Last change', whenMd(d, t.updated_at)],
        ['Sensors', m(i.traffic.sensors.join(', ') || '-')],
      ],
    ),
  );
  out.push('', '### Alerts', '');
  out.push(
    tableMd(
      ['Alert', 'Vector', 'Victim', 'Severity', 'Score', 'State', 'First seen', 'Last seen'],
      i.alerts.map((a) => [
        code(a.id),
        m(vectorName(a.vector)),
        m(victimText(a.victim)),
        m(a.severity),
        String(a.score),
        m(a.state ?? 'open'),
        m(fmtUtc(a.first_seen)),
        m(fmtUtc(a.last_seen)),
      ]),
      [false, false, false, false, true],
      'No alert belongs to this incident.',
    ),
  );
  out.push('', '### Timeline', '', 'In time order, as stored: entries by a sensor or Palisade are marked automatic, the others were made by people.', '');
  out.push(
    tableMd(
      ['Time', 'Kind', 'By', 'What'],
      t.timeline.map((ev) => [whenMd(d, ev.at), code(ev.kind), `${m(ev.actor)}${automatic(i, ev) ? ' (automatic)' : ''}`, m(ev.text)]),
      [],
      'The timeline is empty.',
    ),
  );
  out.push('', '### Mitigations', '');
  out.push(
    tableMd(
      ['Mitigation', 'Target', 'State', 'Hits', 'Updated (UTC)'],
      t.mitigations.map((mt) => [code(mt.id ?? mt.target), m(mt.target), m(mt.state), fmtInt(mt.hits), mt.updated_at ? m(fmtUtc(mt.updated_at)) : '-']),
      [false, false, false, true, false],
      'No mitigation was applied or suggested.',
    ),
  );
  for (const mt of t.mitigations.filter((x) => rulesetText(x.ruleset) !== '').slice(0, RULESETS_SHOWN))
    out.push('', `${m(mt.id ?? mt.target)} (${m(mt.target)}):`, '', mdCodeBlock(rulesetText(mt.ruleset), 'yaml'));
  out.push('', '### Observables', '');
  if (t.observables.length === 0) out.push('_None._');
  for (const k of [...new Set(t.observables.map((o) => o.kind))]) {
    const of = t.observables.filter((o) => o.kind === k);
    out.push(
      tableMd(
        ['Kind', 'Value', 'First seen'],
        of.slice(0, OBSERVABLES_SHOWN).map((o) => [m(o.kind), code(o.value), o.first_seen ? m(fmtUtc(o.first_seen)) : '-']),
      ),
      '',
    );
    if (of.length > OBSERVABLES_SHOWN) out.push(`… and ${fmtInt(of.length - OBSERVABLES_SHOWN)} more ${m(k)} (palisade incidents show ${t.number} --json lists them all).`, '');
  }
  return out.join('\n').trimEnd();
}

export function storedTrafficMarkdown(i: IncidentReport): string {
  const t = i.traffic;
  const open = (kind: 'vector' | 'victim', rows: OpenRow[]) =>
    tableMd(
      [kind === 'vector' ? 'Vector' : 'Victim', 'Seconds open', 'Most open at once'],
      rows.map((r) => [m(openName(kind, r.key)), fmtInt(r.seconds), fmtInt(r.most)]),
      [false, true, true],
      'No attack was open in any stored second.',
    );
  return [
    '## Traffic as stored',
    '',
    m(SUMMARY_LIMITS),
    '',
    tableMd(
      ['', ''],
      [
        ['Sensors', m(t.sensors.join(', ') || '-')],
        ['Span (UTC)', m(spanText(i))],
        ['Seconds with a summary', `${fmtInt(t.seconds.length)} of ${fmtInt(Math.max(0, t.to - t.from))}`],
        ['Packets', fmtInt(i.packets)],
        ['Bytes', `${fmtInt(i.bytes)} (${fmtBytes(i.bytes)})`],
        ['Peak (1 s)', `${fmtInt(i.peak_pps)} packets/s, ${fmtBits(i.peak_bps)}`],
        ...(i.requests > 0
          ? [
              ['Requests', fmtInt(i.requests)],
              ['Peak requests (1 s)', `${fmtInt(i.peak_rps)} requests/s`],
            ]
          : []),
      ],
    ),
    '',
    '### Open attacks by vector',
    '',
    open('vector', i.openByVector),
    '',
    '### Open attacks by victim',
    '',
    open('victim', i.openByVictim),
  ].join('\n');
}
