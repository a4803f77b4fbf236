/**
 * The attack report as one self-contained HTML page: inline CSS, SVG charts drawn server-side,
 * no script, no external fonts or images, and a Content-Security-Policy that forbids fetching
 * anything, so the file can be mailed, archived and printed as it is. Every string that came
 * from the analysis passes through escapeHtml.
 */
import type { Attack } from '../model/attack.js';
import { protocolChart, timelineChart } from './charts.js';
import { escapeHtml as e, fmtBits, fmtBytes, fmtDuration, fmtInt, fmtUtc, fmtZoned, isoSeconds, pct, vectorName, victimText } from './format.js';
import { incidentHtml, incidentTitle, storedTrafficHtml } from './incident.js';
import type { ReportData } from './model.js';
import type { Effectiveness } from './replay.js';
import { isL7Mitigation, type L7Tops } from './replay-log.js';
import { rulesText, type TargetGap } from './rules.js';
import { signatureText } from './signature-text.js';
import { asText, type GeoRow } from './sources.js';
import { attackUnit, REQUESTS } from './unit.js';

const CSS = `
:root { --fg:#1d2329; --muted:#5f6b76; --line:#d8dde2; --accent:#b3471b; --bg-soft:#f5f7f9; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); margin: 0; }
main { max-width: 980px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 17px; margin: 24px 0 8px; }
h4 { font-size: 15px; margin: 16px 0 6px; }
.meta { color: var(--muted); margin: 0; }
.lead { font-size: 17px; font-weight: 600; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 12px 0; padding: 12px 16px; background: var(--bg-soft); border-left: 4px solid var(--accent); }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 14px; font-size: 14px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { background: var(--bg-soft); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
pre { background: var(--bg-soft); border: 1px solid var(--line); padding: 8px 10px; font-size: 12.5px; white-space: pre-wrap; overflow-wrap: anywhere; tab-size: 4; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
figure { margin: 8px 0 16px; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption, .note { color: var(--muted); font-size: 13px; }
.attack { border-top: 1px solid var(--line); }
.tag { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 12px; background: #fbe3d6; color: #7a2e00; }
.ok { color: #0b6b3a; } .bad { color: #a3171b; }
@media print {
  @page { size: A4; margin: 12mm 12mm; }
  body { font-size: 9.5pt; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  main { max-width: none; padding: 0; }
  h1 { font-size: 18pt; } h2 { font-size: 13pt; margin-top: 16px; } h3 { font-size: 11.5pt; }
  h2, h3, h4 { break-after: avoid; }
  figure, pre, .facts, tr { break-inside: avoid; }
  pre { font-size: 8pt; }
  p.note, p.bad { break-after: avoid; }
  #attacks, #appendix, .attack + .attack { break-before: page; }
}
`;

/** Screen readers announce a chart as one image with a name, not as hundreds of shapes. */
function labelled(svg: string, label: string): string {
  return svg.replace(/^<svg /, `<svg role="img" aria-label="${e(label)}" `);
}

function row(cells: string[], numeric: boolean[] = []): string {
  return `<tr>${cells.map((c, i) => (numeric[i] ? `<td class="n">${c}</td>` : `<td>${c}</td>`)).join('')}</tr>`;
}

function table(head: string[], rows: string[][], numeric: boolean[] = []): string {
  if (rows.length === 0) return '<p class="note">None in this capture.</p>';
  const th = head.map((h, i) => (numeric[i] ? `<th class="n">${e(h)}</th>` : `<th>${e(h)}</th>`)).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${rows.map((r) => row(r, numeric)).join('')}</tbody></table>`;
}

/** A figure with a machine-readable value: data-v holds the raw number the text shows. */
function num(key: string, value: number, text: string): string {
  return `<span data-k="${e(key)}" data-v="${e(value)}">${text}</span>`;
}

function when(d: ReportData, iso: string): string {
  return d.tz ? `${e(fmtUtc(iso))}<br><span class="note">${e(`${fmtZoned(iso, d.tz)} (${d.tz})`)}</span>` : e(fmtUtc(iso));
}

function geoTable(d: ReportData, rows: GeoRow[], withBytesAsked: boolean): string {
  const withBytes = withBytesAsked && d.unit.bytes;
  const head = ['Address', d.unit === REQUESTS ? 'Requests' : 'Packets', ...(withBytes ? ['Bytes'] : []), ...(d.geo ? ['Country', 'AS'] : [])];
  const numeric = [false, true, ...(withBytes ? [true] : []), ...(d.geo ? [false, false] : [])];
  return table(
    head,
    rows.map((r) => [`<code>${e(r.ip)}</code>`, e(fmtInt(r.packets)), ...(withBytes ? [e(fmtInt(r.bytes ?? 0))] : []), ...(d.geo ? [e(r.country ?? ''), e(asText(r))] : [])]),
    numeric,
  );
}

function effectHtml(x: Attack, ef: Effectiveness, d: ReportData): string {
  const cls = (good: boolean) => (good ? 'ok' : 'bad');
  const u = attackUnit(x);
  const what = d.unit === REQUESTS ? 'log' : 'capture';
  const lines: string[][] = [];
  if (ef.method !== 'signature') {
    lines.push([
      'Attack traffic dropped',
      `<span class="${cls(ef.attack_dropped >= 0.9)}">${num('attack_dropped', ef.attack_dropped, e(pct(ef.attack_dropped)))}</span> (${e(fmtInt(ef.attack_dropped_packets ?? 0))} of ${e(fmtInt(ef.attack_packets ?? 0))} ${u.many})`,
    ]);
    lines.push([
      'Legitimate traffic dropped',
      `<span class="${cls(ef.legit_dropped <= 0.01)}">${num('legit_dropped', ef.legit_dropped, e(pct(ef.legit_dropped, 2)))}</span> (${e(fmtInt(ef.legit_dropped_packets ?? 0))} of ${e(fmtInt(ef.legit_packets ?? 0))} ${u.many})`,
    ]);
  } else {
    lines.push(['Attack traffic dropped', `${num('attack_dropped', ef.attack_dropped, e(pct(ef.attack_dropped)))} (estimated)`]);
    lines.push(['Legitimate traffic dropped', `${num('legit_dropped', ef.legit_dropped, e(pct(ef.legit_dropped, 2)))} (estimated)`]);
  }
  const how =
    ef.method === 'truth'
      ? `Measured by replaying ${e(d.replayed ?? `the ${what}`)} through these rules with Palisade's what-if engine and scoring every ${u.one} against the scenario's ground truth (${e(d.truth ?? 'truth file')}): exact.`
      : ef.method === 'replay'
        ? `Measured by replaying ${e(d.replayed ?? `the ${what}`)} through these rules with Palisade's what-if engine. A ${u.one} counts as this attack's when it falls inside the attack window and matches the ${u === REQUESTS ? 'custom rule' : 'signature'} (up to the attack's ${e(fmtInt(x.requests ?? x.packets))} ${u.many}); ${u.many} that no detected attack accounts for count as legitimate.${u === REQUESTS ? ' The rate-limiting rule is not part of these figures (palisade mitigate on the log measures it).' : ''}`
        : `Estimated from the signature's coverage (share of attack ${u.many} it matches) and collateral (share of other ${u.many} it matches), because ${e(ef.note ?? d.replayNote ?? `the ${what} was not replayed`)}.`;
  return `<dl class="facts">${lines.map(([k, v]) => `<dt>${e(k)}</dt><dd>${v}</dd>`).join('')}</dl><p class="note" data-k="effect_method" data-v="${ef.method}">${how}</p>`;
}

/** A warning when a target's rules do not carry the whole signature. */
function gapHtml(gap: TargetGap | null, target: string): string {
  if (gap === null) return '';
  const head =
    gap.kind === 'left-out'
      ? `Not covered by these ${e(target)} rules, which leave out what ${e(target)} cannot express:`
      : `These ${e(target)} rules are broader than the signature (they may also drop traffic it spares; the figures below are for the full signature), because ${e(target)} cannot express:`;
  return `<p class="bad" data-gap="${e(target)}" data-gap-kind="${gap.kind}">${head}</p><ul>${gap.reasons.map((g) => `<li>${e(g)}</li>`).join('')}</ul>`;
}

function attackHtml(d: ReportData, x: Attack, i: number): string {
  const ef = d.effects[i] as Effectiveness;
  const src = d.attackSources[i] ?? [];
  const rules = rulesText(x);
  const gaps = d.gaps[i] ?? { nftables: null, iptables: null };
  const dur = Math.max(0, isoSeconds(x.end) - isoSeconds(x.start));
  const facts: Array<[string, string]> = [
    ['Vector', `${e(vectorName(x.vector))} <code>${e(x.vector)}</code>`],
    ['Victim', e(victimText(x.victim))],
    ['Start', when(d, x.start)],
    ['End', when(d, x.end)],
    ['Duration', e(fmtDuration(dur))],
    ['Detected', when(d, x.detected_at)],
    ...(x.requests !== undefined
      ? ([
          ['Requests', num('requests', x.requests, e(fmtInt(x.requests)))],
          ['Peak', num('peak_rps', x.peak_rps ?? x.peak_pps, `${e(fmtInt(x.peak_rps ?? x.peak_pps))} requests/s`)],
        ] as Array<[string, string]>)
      : ([
          ['Packets', `${num('packets', x.packets, e(fmtInt(x.packets)))} (${e(fmtBytes(x.bytes))})`],
          ['Peak', `${num('peak_pps', x.peak_pps, `${e(fmtInt(x.peak_pps))} packets/s`)}, ${num('peak_bps', x.peak_bps, e(fmtBits(x.peak_bps)))}`],
        ] as Array<[string, string]>)),
  ];
  const spoof =
    x.requests !== undefined
      ? 'Requests complete a TCP handshake, so these addresses are real: they can be blocked or reported to their networks.'
      : x.sources.spoofed_likely
        ? 'The source addresses are most likely spoofed (forged), so blocking by source address would not help; the rules match packet features instead.'
        : 'The source addresses look genuine (real hosts, such as reflectors or bots), so they can be blocked or reported to their networks.';
  const sigText = signatureText(x);
  return `<article class="attack" id="attack-${i + 1}" data-attack="${e(x.id)}">
<h3>${i + 1}. ${e(vectorName(x.vector))} against ${e(victimText(x.victim))} <span class="tag">${e(x.id)}</span></h3>
<dl class="facts">${facts.map(([k, v]) => `<dt>${e(k)}</dt><dd>${v}</dd>`).join('')}</dl>
<h4>Sources</h4>
<p>${num('sources_unique', x.sources.unique, e(fmtInt(x.sources.unique)))} distinct source address${x.sources.unique === 1 ? '' : 'es'}. ${e(spoof)}</p>
${geoTable(d, src, false)}
${d.geo ? '' : '<p class="note">Country and AS are not shown: no GeoIP/ASN database is installed.</p>'}
<h4>Signature</h4>
${
  x.signature
    ? `<pre><code>${e(x.signature.expression)}</code></pre>
<p>It matches ${num('coverage', x.signature.coverage, e(pct(x.signature.coverage)))} of this attack's ${attackUnit(x).many} and ${num('collateral', x.signature.collateral, e(pct(x.signature.collateral, 2)))} of other ${attackUnit(x).many}.${sigText.listNote ? ` ${e(sigText.listNote)}` : ''}</p>`
    : `<p>${e(sigText.summary)}</p>`
}
${sigText.evidence ? `<p class="note">${e(sigText.evidence)}</p>` : ''}
${l7LooksHtml(d, x, d.l7Tops[i] ?? null)}
<h4>Rules</h4>
${isL7Mitigation(x.mitigation) ? l7RulesHtml(x) : `<p class="note">Rules language (Palisade and Cloudflare rulesets):</p>\n<pre><code>${e(rules)}</code></pre>`}
<p class="note">nftables:</p>
${gapHtml(gaps.nftables, 'nftables')}
<pre><code>${e(x.mitigation.nftables || '(no nftables rules: the signature cannot be expressed there)')}</code></pre>
<p class="note">iptables + ipset:</p>
${gapHtml(gaps.iptables, 'iptables')}
<pre><code>${e(x.mitigation.iptables || '(no iptables rules: the signature cannot be expressed there)')}</code></pre>
<h4>What the rules would do</h4>
${effectHtml(x, ef, d)}
</article>`;
}

/** L7: what the attack's requests looked like (replay tops) and where they came from (prefixes, ASNs). */
function l7LooksHtml(d: ReportData, x: Attack, tops: L7Tops | null): string {
  if (x.requests === undefined) return '';
  const parts: string[] = ['<h4>What its requests looked like</h4>'];
  if (tops === null) parts.push(`<p class="note">Top user agents and paths need the log (${e(d.replayNote ?? 'not replayed')}).</p>`);
  else {
    const valueTable = (head: string, rows: Array<{ value: string; requests: number }>) =>
      table(
        [head, 'Requests'],
        rows.map((r) => [`<code>${e(r.value)}</code>`, e(fmtInt(r.requests))]),
        [false, true],
      );
    parts.push(`<div data-l7="user_agents">${valueTable('User agent', tops.user_agents)}</div>`, `<div data-l7="paths">${valueTable('Path', tops.paths)}</div>`);
    if (tops.asns.length > 0)
      parts.push(
        `<div data-l7="asns">${table(
          ['Network (AS)', 'Requests'],
          tops.asns.map((r) => [e(`AS${r.asn}${r.name ? ` ${r.name}` : ''}`), e(fmtInt(r.requests))]),
          [false, true],
        )}</div>`,
      );
  }
  const pre = x.sources.top_prefixes ?? [];
  if (pre.length > 0)
    parts.push(
      `<div data-l7="prefixes">${table(
        ['Prefix', 'Addresses', 'Requests'],
        pre.map((p) => [`<code>${e(p.prefix)}</code>`, e(fmtInt(p.addresses)), e(fmtInt(p.requests))]),
        [false, true, true],
      )}</div>`,
    );
  return parts.join('\n');
}

/** L7: the custom rule, the rate-limiting rule (Cloudflare's shape) and the block lists. */
function l7RulesHtml(x: Attack): string {
  const m = x.mitigation;
  if (!isL7Mitigation(m)) return '';
  const rl = m.rate_limit;
  return `<p class="note">Custom rule (Cloudflare WAF custom rules, Palisade rulesets and the edge), action <code>${e(m.custom_rule.action)}</code>:</p>
<pre data-l7="custom_rule"><code>${e(m.custom_rule.expression)}</code></pre>
${
  rl
    ? `<p class="note">Rate-limiting rule (Cloudflare's http_ratelimit phase): ${e(fmtInt(rl.ratelimit.requests_per_period))} requests per ${e(rl.ratelimit.period)} s per ${e(rl.ratelimit.characteristics.filter((c) => c !== 'cf.colo.id').join(', '))}, then ${e(rl.action)} for ${e(fmtDuration(rl.ratelimit.mitigation_timeout))}:</p>
<pre data-l7="rate_limit"><code>${e(JSON.stringify(rl, null, 2))}</code></pre>`
    : '<p class="note">No rate-limiting rule: this attack does not complete requests a counter could count.</p>'
}
<p class="note">Block lists: ${num('list_ips', m.lists.ips.length, e(fmtInt(m.lists.ips.length)))} addresses, ${e(fmtInt(m.lists.prefixes.length))} prefixes${m.lists.asns.length > 0 ? `, ${e(fmtInt(m.lists.asns.length))} networks (AS)` : ''}${m.lists.prefixes.length > 0 ? ` (${e(m.lists.prefixes.slice(0, 6).join(', '))}${m.lists.prefixes.length > 6 ? ', …' : ''})` : ''}.</p>`;
}

function appendix(d: ReportData): string {
  const a = d.analysis;
  const u = d.unit;
  const t = a.traffic;
  const est = new Set(t.estimated ?? []);
  const mark = (k: string) => (est.has(k) ? ' <span class="note">(estimate)</span>' : '');
  const cap = a.capture;
  const capRows: string[][] = [
    ['File', `<code>${e(cap.file)}</code>`],
    ['Format', e(`${cap.format}${cap.compressed ? ' (gzip)' : ''}, link ${cap.link_types.join(', ') || '-'}`)],
    [u === REQUESTS ? 'Requests' : 'Packets', num('capture_packets', cap.packets, e(fmtInt(cap.packets)))],
    ...(u.bytes ? [['Bytes', num('capture_bytes', cap.bytes, e(fmtInt(cap.bytes)))]] : []),
    ['Start', cap.start ? when(d, cap.start) : '-'],
    ['End', cap.end ? when(d, cap.end) : '-'],
    ['Duration', e(fmtDuration(cap.duration_s))],
    ['Peak (1 s)', `${num('capture_pps', t.peak.pps_1s, `${e(fmtInt(t.peak.pps_1s))} ${u.many}/s`)}${u.bytes ? `, ${e(fmtBits(t.peak.bps_1s))}` : ''}`],
    ['Distinct addresses', `${e(fmtInt(t.unique_sources))} sources, ${e(fmtInt(t.unique_destinations))} destinations${mark('unique_sources')}`],
    ['Skipped', e(`${cap.skipped.truncated} truncated, ${cap.skipped.malformed} malformed, ${cap.skipped.unsupported} unsupported`)],
  ];
  if (cap.error) capRows.push(['Reading stopped', e(cap.error)]);
  const nameTable = (rows: Array<{ name: string; packets: number }>, what: string) =>
    table(
      [what, 'Packets'],
      rows.map((r) => [`<code>${e(r.name)}</code>`, e(fmtInt(r.packets))]),
      [false, true],
    );
  const packetTables = `<h3>Top destination ports${mark('top_dst_ports')}</h3>${table(
    ['Protocol', 'Port', 'Packets'],
    t.top_dst_ports.map((p) => [e(p.protocol.toUpperCase()), e(p.port), e(fmtInt(p.packets))]),
    [false, true, true],
  )}
<h3>Top conversations${mark('top_conversations')}</h3>${table(
    ['Address A', 'Address B', 'Packets', 'Bytes'],
    (t.top_conversations ?? []).map((c) => [`<code>${e(c.a)}</code>`, `<code>${e(c.b)}</code>`, e(fmtInt(c.packets)), e(fmtInt(c.bytes))]),
    [false, false, true, true],
  )}
<h3>DNS query names${mark('top_dns_names')}</h3>${nameTable(t.top_dns_names ?? [], 'Name')}
<h3>TLS server names (SNI)${mark('top_tls_sni')}</h3>${nameTable(t.top_tls_sni ?? [], 'SNI')}
<h3>TLS client fingerprints (JA4)${mark('top_ja4')}</h3>${nameTable(t.top_ja4 ?? [], 'JA4')}
`;
  return `<section id="appendix"><h2>Appendix: raw tables</h2>
<h3>Capture</h3>
<table><tbody>${capRows.map(([k, v]) => `<tr><th>${e(k)}</th><td>${v}</td></tr>`).join('')}</tbody></table>
<h3>Top sources${mark('top_sources')}</h3>${geoTable(d, d.topSources, true)}
<h3>Top destinations${mark('top_destinations')}</h3>${geoTable(d, d.topDestinations, true)}
${u.bytes ? packetTables : ''}</section>`;
}

export function renderHtml(d: ReportData): string {
  const a = d.analysis;
  const s = d.summary;
  const u = d.unit;
  const source = u === REQUESTS ? 'log' : 'capture';
  const inc = d.incident;
  const title = inc
    ? `${incidentTitle(inc)}${d.customer ? ` (${d.customer})` : ''}`
    : `Attack report${d.customer ? ` for ${d.customer}` : ''}${s.start ? `, ${s.start.slice(0, 10)}` : ''}`;
  const summaryFacts: Array<[string, string]> = [['When (UTC)', `<span data-k="when_utc">${e(s.when_utc)}</span>`]];
  if (s.when_local) summaryFacts.push([`When (${d.tz})`, `<span data-k="when_local">${e(s.when_local)}</span>`]);
  summaryFacts.push(
    ['Duration', num('duration_s', s.duration_s, e(fmtDuration(s.duration_s)))],
    [s.attacks > 0 ? 'Peak attack rate' : `Peak ${u.one} rate`, num('peak_pps', s.peak_pps, `${e(fmtInt(s.peak_pps))} ${u.many}/s`)],
  );
  if (u.bytes)
    summaryFacts.push([s.attacks > 0 ? 'Peak attack bandwidth' : 'Peak bandwidth', `${num('peak_bps', s.peak_bps, e(fmtBits(s.peak_bps)))} (${e(fmtInt(s.peak_bps))} bit/s)`]);
  if (s.attacks > 1)
    summaryFacts.push([
      'Peak of all traffic',
      `${num('traffic_pps', a.traffic.peak.pps_1s, `${e(fmtInt(a.traffic.peak.pps_1s))} ${u.many}/s`)}${u.bytes ? `, ${e(fmtBits(a.traffic.peak.bps_1s))}` : ''} (over 1 s)`,
    ]);
  if (s.attacks > 0)
    summaryFacts.push([
      'Attack traffic',
      `${num('attack_packets', s.attack_packets, e(fmtInt(s.attack_packets)))} ${u.many}${u.bytes ? `, ${num('attack_bytes', s.attack_bytes, e(fmtBytes(s.attack_bytes)))}` : ''} (${Number.isNaN(s.attack_share) ? `share of all ${u.many} not known` : `${e(pct(s.attack_share))} of all ${u.many}`})`,
    ]);
  const replayCaption =
    d.timeline.byVector.length > 0
      ? `Coloured lines: ${u.many} matching the ${u === REQUESTS ? 'custom rules' : 'signatures'} of each attack vector (from replaying the ${source}). Shaded: attack windows, numbered as in Attacks below. Bins of ${e(d.timeline.bin_s)} s.`
      : a.attacks.length > 0
        ? `Shaded: attack windows, numbered as in Attacks below. Per-vector lines need the ${source} (${e(d.replayNote ?? 'not replayed')}). Bins of ${e(d.timeline.bin_s)} s.`
        : `Bins of ${e(d.timeline.bin_s)} s.`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="Palisade">
<title>${e(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>${e(title)}</h1>
<p class="meta">${d.customer ? `Prepared for <strong data-k="customer">${e(d.customer)}</strong>. ` : ''}${inc ? `From the alert store: the incident's alerts and the per-second summaries of ${e(inc.traffic.sensors.length === 1 ? 'its sensor' : 'its sensors')}.` : `${u === REQUESTS ? 'Access log' : 'Capture'} <code>${e(a.capture.file)}</code>.`} Generated ${e(fmtUtc(d.generated))} by Palisade.</p>
</header>
<section id="summary">
<h2>Summary</h2>
<p class="lead" data-k="what">${e(s.what)}</p>
<dl class="facts">${summaryFacts.map(([k, v]) => `<dt>${e(k)}</dt><dd>${v}</dd>`).join('')}</dl>
<p data-k="effect">${e(s.effect)}</p>
<p data-k="done">${e(s.done)}</p>
</section>
${inc ? incidentHtml(d, inc) : ''}
<section id="timeline">
<h2>Traffic over time</h2>
<figure class="chart" data-chart="timeline">${labelled(timelineChart(a, d.timeline), `${u === REQUESTS ? 'Requests' : 'Packets'} per second over time, by attack vector, with attack windows shaded`)}<figcaption>${replayCaption}</figcaption></figure>
</section>
${a.attacks.length > 0 ? `<section id="attacks"><h2>Attacks</h2>${a.attacks.map((x, i) => attackHtml(d, x, i)).join('\n')}</section>` : ''}
${
  inc
    ? storedTrafficHtml(inc)
    : u.bytes
      ? `<section id="protocols">
<h2>Protocols</h2>
<figure class="chart" data-chart="protocols">${labelled(protocolChart(a), 'Packets per protocol')}<figcaption>Packets containing each protocol at any layer (a packet counts once per protocol it carries).</figcaption></figure>
</section>`
      : ''
}
${inc ? '' : appendix(d)}
<footer><p class="note">${inc ? "Times are the sensors' own, as stored." : `Times come from the ${source}'s own timestamps.`} Country data: DB-IP (CC BY 4.0) where installed; AS data: ip-location-db where installed.</p></footer>
</main>
</body>
</html>
`;
}
