/**
 * The attack report as one self-contained HTML page: inline CSS, SVG charts drawn server-side,
 * no script, no external fonts or images, and a Content-Security-Policy that forbids fetching
 * anything, so the file can be mailed, archived and printed as it is. Every string that came
 * from the analysis passes through escapeHtml.
 */
import type { Attack } from '../model/attack.js';
import { protocolChart, timelineChart } from './charts.js';
import { escapeHtml as e, fmtBits, fmtBytes, fmtDuration, fmtInt, fmtUtc, fmtZoned, isoSeconds, pct, vectorName, victimText } from './format.js';
import type { ReportData } from './model.js';
import type { Effectiveness } from './replay.js';
import { rulesText, type TargetGap } from './rules.js';
import { signatureText } from './signature-text.js';
import { asText, type GeoRow } from './sources.js';

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

function geoTable(d: ReportData, rows: GeoRow[], withBytes: boolean): string {
  const head = ['Address', 'Packets', ...(withBytes ? ['Bytes'] : []), ...(d.geo ? ['Country', 'AS'] : [])];
  const numeric = [false, true, ...(withBytes ? [true] : []), ...(d.geo ? [false, false] : [])];
  return table(
    head,
    rows.map((r) => [`<code>${e(r.ip)}</code>`, e(fmtInt(r.packets)), ...(withBytes ? [e(fmtInt(r.bytes ?? 0))] : []), ...(d.geo ? [e(r.country ?? ''), e(asText(r))] : [])]),
    numeric,
  );
}

function effectHtml(x: Attack, ef: Effectiveness, d: ReportData): string {
  const cls = (good: boolean) => (good ? 'ok' : 'bad');
  const lines: string[][] = [];
  if (ef.method !== 'signature') {
    lines.push([
      'Attack traffic dropped',
      `<span class="${cls(ef.attack_dropped >= 0.9)}">${num('attack_dropped', ef.attack_dropped, e(pct(ef.attack_dropped)))}</span> (${e(fmtInt(ef.attack_dropped_packets ?? 0))} of ${e(fmtInt(ef.attack_packets ?? 0))} packets)`,
    ]);
    lines.push([
      'Legitimate traffic dropped',
      `<span class="${cls(ef.legit_dropped <= 0.01)}">${num('legit_dropped', ef.legit_dropped, e(pct(ef.legit_dropped, 2)))}</span> (${e(fmtInt(ef.legit_dropped_packets ?? 0))} of ${e(fmtInt(ef.legit_packets ?? 0))} packets)`,
    ]);
  } else {
    lines.push(['Attack traffic dropped', `${num('attack_dropped', ef.attack_dropped, e(pct(ef.attack_dropped)))} (estimated)`]);
    lines.push(['Legitimate traffic dropped', `${num('legit_dropped', ef.legit_dropped, e(pct(ef.legit_dropped, 2)))} (estimated)`]);
  }
  const how =
    ef.method === 'truth'
      ? `Measured by replaying ${e(d.replayed ?? 'the capture')} through these rules with Palisade's what-if engine and scoring every packet against the scenario's ground truth (${e(d.truth ?? 'truth file')}): exact.`
      : ef.method === 'replay'
        ? `Measured by replaying ${e(d.replayed ?? 'the capture')} through these rules with Palisade's what-if engine. A packet counts as this attack's when it falls inside the attack window and matches the signature (up to the attack's ${e(fmtInt(x.packets))} packets); packets that no detected attack accounts for count as legitimate.`
        : `Estimated from the signature's coverage (share of attack packets it matches) and collateral (share of other packets it matches), because ${e(ef.note ?? d.replayNote ?? 'the capture was not replayed')}.`;
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
    ['Packets', `${num('packets', x.packets, e(fmtInt(x.packets)))} (${e(fmtBytes(x.bytes))})`],
    ['Peak', `${num('peak_pps', x.peak_pps, `${e(fmtInt(x.peak_pps))} packets/s`)}, ${num('peak_bps', x.peak_bps, e(fmtBits(x.peak_bps)))}`],
  ];
  const spoof = x.sources.spoofed_likely
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
<p>It matches ${num('coverage', x.signature.coverage, e(pct(x.signature.coverage)))} of this attack's packets and ${num('collateral', x.signature.collateral, e(pct(x.signature.collateral, 2)))} of other packets.${sigText.listNote ? ` ${e(sigText.listNote)}` : ''}</p>`
    : `<p>${e(sigText.summary)}</p>`
}
${sigText.evidence ? `<p class="note">${e(sigText.evidence)}</p>` : ''}
<h4>Rules</h4>
<p class="note">Rules language (Palisade and Cloudflare rulesets):</p>
<pre><code>${e(rules)}</code></pre>
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

function appendix(d: ReportData): string {
  const a = d.analysis;
  const t = a.traffic;
  const est = new Set(t.estimated ?? []);
  const mark = (k: string) => (est.has(k) ? ' <span class="note">(estimate)</span>' : '');
  const cap = a.capture;
  const capRows: string[][] = [
    ['File', `<code>${e(cap.file)}</code>`],
    ['Format', e(`${cap.format}${cap.compressed ? ' (gzip)' : ''}, link ${cap.link_types.join(', ') || '-'}`)],
    ['Packets', num('capture_packets', cap.packets, e(fmtInt(cap.packets)))],
    ['Bytes', num('capture_bytes', cap.bytes, e(fmtInt(cap.bytes)))],
    ['Start', cap.start ? when(d, cap.start) : '-'],
    ['End', cap.end ? when(d, cap.end) : '-'],
    ['Duration', e(fmtDuration(cap.duration_s))],
    ['Peak (1 s)', `${num('capture_pps', t.peak.pps_1s, `${e(fmtInt(t.peak.pps_1s))} packets/s`)}, ${e(fmtBits(t.peak.bps_1s))}`],
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
  return `<section id="appendix"><h2>Appendix: raw tables</h2>
<h3>Capture</h3>
<table><tbody>${capRows.map(([k, v]) => `<tr><th>${e(k)}</th><td>${v}</td></tr>`).join('')}</tbody></table>
<h3>Top sources${mark('top_sources')}</h3>${geoTable(d, d.topSources, true)}
<h3>Top destinations${mark('top_destinations')}</h3>${geoTable(d, d.topDestinations, true)}
<h3>Top destination ports${mark('top_dst_ports')}</h3>${table(
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
</section>`;
}

export function renderHtml(d: ReportData): string {
  const a = d.analysis;
  const s = d.summary;
  const title = `Attack report${d.customer ? ` for ${d.customer}` : ''}${s.start ? `, ${s.start.slice(0, 10)}` : ''}`;
  const summaryFacts: Array<[string, string]> = [['When (UTC)', `<span data-k="when_utc">${e(s.when_utc)}</span>`]];
  if (s.when_local) summaryFacts.push([`When (${d.tz})`, `<span data-k="when_local">${e(s.when_local)}</span>`]);
  summaryFacts.push(
    ['Duration', num('duration_s', s.duration_s, e(fmtDuration(s.duration_s)))],
    [s.attacks > 0 ? 'Peak attack rate' : 'Peak packet rate', num('peak_pps', s.peak_pps, `${e(fmtInt(s.peak_pps))} packets/s`)],
    [s.attacks > 0 ? 'Peak attack bandwidth' : 'Peak bandwidth', `${num('peak_bps', s.peak_bps, e(fmtBits(s.peak_bps)))} (${e(fmtInt(s.peak_bps))} bit/s)`],
  );
  if (s.attacks > 1)
    summaryFacts.push([
      'Peak of all traffic',
      `${num('traffic_pps', a.traffic.peak.pps_1s, `${e(fmtInt(a.traffic.peak.pps_1s))} packets/s`)}, ${e(fmtBits(a.traffic.peak.bps_1s))} (over 1 s)`,
    ]);
  if (s.attacks > 0)
    summaryFacts.push([
      'Attack traffic',
      `${num('attack_packets', s.attack_packets, e(fmtInt(s.attack_packets)))} packets, ${num('attack_bytes', s.attack_bytes, e(fmtBytes(s.attack_bytes)))} (${e(pct(s.attack_share))} of all packets)`,
    ]);
  const replayCaption =
    d.timeline.byVector.length > 0
      ? `Coloured lines: packets matching the signatures of each attack vector (from replaying the capture). Shaded: attack windows, numbered as in Attacks below. Bins of ${e(d.timeline.bin_s)} s.`
      : a.attacks.length > 0
        ? `Shaded: attack windows, numbered as in Attacks below. Per-vector lines need the capture (${e(d.replayNote ?? 'not replayed')}). Bins of ${e(d.timeline.bin_s)} s.`
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
<p class="meta">${d.customer ? `Prepared for <strong data-k="customer">${e(d.customer)}</strong>. ` : ''}Capture <code>${e(a.capture.file)}</code>. Generated ${e(fmtUtc(d.generated))} by Palisade.</p>
</header>
<section id="summary">
<h2>Summary</h2>
<p class="lead" data-k="what">${e(s.what)}</p>
<dl class="facts">${summaryFacts.map(([k, v]) => `<dt>${e(k)}</dt><dd>${v}</dd>`).join('')}</dl>
<p data-k="effect">${e(s.effect)}</p>
<p data-k="done">${e(s.done)}</p>
</section>
<section id="timeline">
<h2>Traffic over time</h2>
<figure class="chart" data-chart="timeline">${labelled(timelineChart(a, d.timeline), 'Packets per second over time, by attack vector, with attack windows shaded')}<figcaption>${replayCaption}</figcaption></figure>
</section>
${a.attacks.length > 0 ? `<section id="attacks"><h2>Attacks</h2>${a.attacks.map((x, i) => attackHtml(d, x, i)).join('\n')}</section>` : ''}
<section id="protocols">
<h2>Protocols</h2>
<figure class="chart" data-chart="protocols">${labelled(protocolChart(a), 'Packets per protocol')}<figcaption>Packets containing each protocol at any layer (a packet counts once per protocol it carries).</figcaption></figure>
</section>
${appendix(d)}
<footer><p class="note">Times come from the capture's own timestamps. Country data: DB-IP (CC BY 4.0) where installed; AS data: ip-location-db where installed.</p></footer>
</main>
</body>
</html>
`;
}
