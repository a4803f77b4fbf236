/**
 * The attack report as Markdown for tickets and e-mail: the same facts as the HTML page in
 * headings, lists and GFM tables, no HTML and no images. Strings from the analysis go through
 * escapeMd (inline text) or mdCodeBlock (rules and signatures), so they stay text.
 */
import type { Attack } from '../model/attack.js';
import { fmtBits, fmtBytes, fmtDuration, fmtInt, fmtUtc, fmtZoned, isoSeconds, escapeMd as m, mdCodeBlock, PROTOCOL_LABELS, pct, vectorName, victimText } from './format.js';
import { incidentMarkdown, incidentTitle, storedTrafficMarkdown } from './incident.js';
import type { ReportData } from './model.js';
import type { Effectiveness } from './replay.js';
import { isL7Mitigation, type L7Tops } from './replay-log.js';
import { rulesText, type TargetGap } from './rules.js';
import { signatureText } from './signature-text.js';
import { asText, type GeoRow } from './sources.js';
import { attackUnit, REQUESTS } from './unit.js';

function table(head: string[], rows: string[][], numeric: boolean[] = []): string {
  if (rows.length === 0) return '_None in this capture._';
  const sep = head.map((_, i) => (numeric[i] ? '---:' : '---'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function when(d: ReportData, iso: string): string {
  return d.tz ? `${m(fmtUtc(iso))} (${m(`${fmtZoned(iso, d.tz)}, ${d.tz}`)})` : m(fmtUtc(iso));
}

/** Inline code for short values; escaped text when the value holds a backtick or a pipe. */
function code(s: string): string {
  return /[`|\r\n]/.test(s) ? m(s) : `\`${s}\``;
}

function geoTable(d: ReportData, rows: GeoRow[], withBytesAsked: boolean): string {
  const withBytes = withBytesAsked && d.unit.bytes;
  const head = ['Address', d.unit === REQUESTS ? 'Requests' : 'Packets', ...(withBytes ? ['Bytes'] : []), ...(d.geo ? ['Country', 'AS'] : [])];
  const numeric = [false, true, ...(withBytes ? [true] : []), ...(d.geo ? [false, false] : [])];
  return table(
    head,
    rows.map((r) => [code(r.ip), fmtInt(r.packets), ...(withBytes ? [fmtInt(r.bytes ?? 0)] : []), ...(d.geo ? [m(r.country ?? ''), m(asText(r))] : [])]),
    numeric,
  );
}

function effect(x: Attack, ef: Effectiveness, d: ReportData): string {
  const lines: string[] = [];
  const u = attackUnit(x);
  const what = d.unit === REQUESTS ? 'log' : 'capture';
  if (ef.method !== 'signature') {
    lines.push(`- Attack traffic dropped: **${pct(ef.attack_dropped)}** (${fmtInt(ef.attack_dropped_packets ?? 0)} of ${fmtInt(ef.attack_packets ?? 0)} ${u.many})`);
    lines.push(`- Legitimate traffic dropped: **${pct(ef.legit_dropped, 2)}** (${fmtInt(ef.legit_dropped_packets ?? 0)} of ${fmtInt(ef.legit_packets ?? 0)} ${u.many})`);
    lines.push(
      '',
      ef.method === 'truth'
        ? `Measured by replaying ${code(d.replayed ?? `the ${what}`)} through these rules with Palisade's what-if engine and scoring every ${u.one} against the scenario's ground truth (${code(d.truth ?? 'truth file')}): exact.`
        : `Measured by replaying ${code(d.replayed ?? `the ${what}`)} through these rules with Palisade's what-if engine. A ${u.one} counts as this attack's when it falls inside the attack window and matches the ${u === REQUESTS ? 'custom rule' : 'signature'} (up to the attack's ${fmtInt(x.requests ?? x.packets)} ${u.many}); ${u.many} that no detected attack accounts for count as legitimate.${u === REQUESTS ? ' The rate-limiting rule is not part of these figures (palisade mitigate on the log measures it).' : ''}`,
    );
  } else {
    lines.push(`- Attack traffic dropped: **${pct(ef.attack_dropped)}** (estimated)`);
    lines.push(`- Legitimate traffic dropped: **${pct(ef.legit_dropped, 2)}** (estimated)`);
    lines.push('', `Estimated from the signature's coverage and collateral, because ${m(ef.note ?? d.replayNote ?? `the ${what} was not replayed`)}.`);
  }
  return lines.join('\n');
}

/** L7: top user agents, paths and networks of the attack's requests, and its /24s. */
function l7Looks(d: ReportData, x: Attack, tops: L7Tops | null): string[] {
  if (x.requests === undefined) return [];
  const out = ['', '#### What its requests looked like', ''];
  if (tops === null) out.push(`_Top user agents and paths need the log (${m(d.replayNote ?? 'not replayed')})._`);
  else {
    const rows = (r: Array<{ value: string; requests: number }>) => r.map((x) => [code(x.value), fmtInt(x.requests)]);
    out.push(table(['User agent', 'Requests'], rows(tops.user_agents), [false, true]), '', table(['Path', 'Requests'], rows(tops.paths), [false, true]));
    if (tops.asns.length > 0)
      out.push(
        '',
        table(
          ['Network (AS)', 'Requests'],
          tops.asns.map((r) => [m(`AS${r.asn}${r.name ? ` ${r.name}` : ''}`), fmtInt(r.requests)]),
          [false, true],
        ),
      );
  }
  const pre = x.sources.top_prefixes ?? [];
  if (pre.length > 0)
    out.push(
      '',
      table(
        ['Prefix', 'Addresses', 'Requests'],
        pre.map((p) => [code(p.prefix), fmtInt(p.addresses), fmtInt(p.requests)]),
        [false, true, true],
      ),
    );
  return out;
}

function attack(d: ReportData, x: Attack, i: number): string {
  const ef = d.effects[i] as Effectiveness;
  const dur = Math.max(0, isoSeconds(x.end) - isoSeconds(x.start));
  const out: string[] = [];
  out.push(`### ${i + 1}. ${m(vectorName(x.vector))} against ${m(victimText(x.victim))}`);
  out.push('');
  out.push(
    table(
      ['', ''],
      [
        ['Attack id', code(x.id)],
        ['Vector', `${m(vectorName(x.vector))} (${code(x.vector)})`],
        ['Victim', m(victimText(x.victim))],
        ['Start', when(d, x.start)],
        ['End', when(d, x.end)],
        ['Duration', fmtDuration(dur)],
        ['Detected', when(d, x.detected_at)],
        ...(x.requests !== undefined
          ? [
              ['Requests', fmtInt(x.requests)],
              ['Peak', `${fmtInt(x.peak_rps ?? x.peak_pps)} requests/s`],
            ]
          : [
              ['Packets', `${fmtInt(x.packets)} (${fmtBytes(x.bytes)})`],
              ['Peak', `${fmtInt(x.peak_pps)} packets/s, ${fmtBits(x.peak_bps)}`],
            ]),
      ],
    ),
  );
  out.push('', '#### Sources', '');
  out.push(
    `${fmtInt(x.sources.unique)} distinct source address${x.sources.unique === 1 ? '' : 'es'}, ${
      x.requests !== undefined
        ? 'real (requests complete a TCP handshake): they can be blocked or reported to their networks.'
        : x.sources.spoofed_likely
          ? 'most likely spoofed (blocking by source address would not help).'
          : 'apparently genuine (real hosts such as reflectors or bots).'
    }`,
  );
  out.push('', geoTable(d, d.attackSources[i] ?? [], false));
  if (!d.geo) out.push('', '_Country and AS not shown: no GeoIP/ASN database is installed._');
  const sig = signatureText(x);
  out.push('', '#### Signature', '');
  if (sig.expression !== null) out.push(mdCodeBlock(sig.expression), '');
  out.push(sig.summary);
  if (sig.evidence) out.push('', `_${sig.evidence}_`);
  out.push(...l7Looks(d, x, d.l7Tops[i] ?? null));
  if (isL7Mitigation(x.mitigation)) {
    const mm = x.mitigation;
    out.push(
      '',
      '#### Rules',
      '',
      `Custom rule (Cloudflare WAF custom rules, Palisade rulesets and the edge), action \`${mm.custom_rule.action}\`:`,
      '',
      mdCodeBlock(mm.custom_rule.expression),
    );
    if (mm.rate_limit) out.push('', "Rate-limiting rule (Cloudflare's http_ratelimit phase):", '', mdCodeBlock(JSON.stringify(mm.rate_limit, null, 2), 'json'));
    else out.push('', 'No rate-limiting rule: this attack does not complete requests a counter could count.');
    out.push(
      '',
      `Block lists: ${fmtInt(mm.lists.ips.length)} addresses, ${fmtInt(mm.lists.prefixes.length)} prefixes${mm.lists.asns.length > 0 ? `, ${fmtInt(mm.lists.asns.length)} networks (AS)` : ''}.`,
    );
  } else out.push('', '#### Rules', '', 'Rules language (Palisade ruleset):', '', mdCodeBlock(rulesText(x), 'yaml'));
  const gaps = d.gaps[i] ?? { nftables: null, iptables: null };
  const gap = (g: TargetGap | null, target: string) => {
    if (g === null) return [];
    const head =
      g.kind === 'left-out'
        ? `**Not covered by these ${target} rules**, which leave out what ${target} cannot express:`
        : `**These ${target} rules are broader than the signature** (they may also drop traffic it spares; the figures below are for the full signature), because ${target} cannot express:`;
    return [head, '', ...g.reasons.map((r) => `- ${m(r)}`), ''];
  };
  out.push('', 'nftables:', '', ...gap(gaps.nftables, 'nftables'), mdCodeBlock(x.mitigation.nftables || '(the signature cannot be expressed in nftables)'));
  out.push('', 'iptables + ipset:', '', ...gap(gaps.iptables, 'iptables'), mdCodeBlock(x.mitigation.iptables || '(the signature cannot be expressed in iptables)'));
  out.push('', '#### What the rules would do', '', effect(x, ef, d));
  return out.join('\n');
}

function appendix(d: ReportData): string {
  const a = d.analysis;
  const u = d.unit;
  const t = a.traffic;
  const cap = a.capture;
  const est = new Set(t.estimated ?? []);
  const mark = (k: string) => (est.has(k) ? ' (estimate)' : '');
  const names = (rows: Array<{ name: string; packets: number }>, what: string) =>
    table(
      [what, 'Packets'],
      rows.map((r) => [code(r.name), fmtInt(r.packets)]),
      [false, true],
    );
  const packetTables = [
    '',
    `### Top destination ports${mark('top_dst_ports')}`,
    '',
    table(
      ['Protocol', 'Port', 'Packets'],
      t.top_dst_ports.map((p) => [p.protocol.toUpperCase(), String(p.port), fmtInt(p.packets)]),
      [false, true, true],
    ),
    '',
    `### Top conversations${mark('top_conversations')}`,
    '',
    table(
      ['Address A', 'Address B', 'Packets', 'Bytes'],
      (t.top_conversations ?? []).map((c) => [code(c.a), code(c.b), fmtInt(c.packets), fmtInt(c.bytes)]),
      [false, false, true, true],
    ),
    '',
    `### DNS query names${mark('top_dns_names')}`,
    '',
    names(t.top_dns_names ?? [], 'Name'),
    '',
    `### TLS server names (SNI)${mark('top_tls_sni')}`,
    '',
    names(t.top_tls_sni ?? [], 'SNI'),
    '',
    `### TLS client fingerprints (JA4)${mark('top_ja4')}`,
    '',
    names(t.top_ja4 ?? [], 'JA4'),
  ];
  return [
    '## Appendix: raw tables',
    '',
    '### Capture',
    '',
    table(
      ['', ''],
      [
        ['File', code(cap.file)],
        ['Format', m(`${cap.format}${cap.compressed ? ' (gzip)' : ''}, link ${cap.link_types.join(', ') || '-'}`)],
        [u === REQUESTS ? 'Requests' : 'Packets', fmtInt(cap.packets)],
        ...(u.bytes ? [['Bytes', fmtInt(cap.bytes)]] : []),
        ['Start', cap.start ? when(d, cap.start) : '-'],
        ['End', cap.end ? when(d, cap.end) : '-'],
        ['Duration', fmtDuration(cap.duration_s)],
        ['Peak (1 s)', `${fmtInt(t.peak.pps_1s)} ${u.many}/s${u.bytes ? `, ${fmtBits(t.peak.bps_1s)}` : ''}`],
        ['Distinct addresses', `${fmtInt(t.unique_sources)} sources, ${fmtInt(t.unique_destinations)} destinations${mark('unique_sources')}`],
        ['Skipped', `${cap.skipped.truncated} truncated, ${cap.skipped.malformed} malformed, ${cap.skipped.unsupported} unsupported`],
        ...(cap.error ? [['Reading stopped', m(cap.error)]] : []),
      ],
    ),
    '',
    `### Top sources${mark('top_sources')}`,
    '',
    geoTable(d, d.topSources, true),
    '',
    `### Top destinations${mark('top_destinations')}`,
    '',
    geoTable(d, d.topDestinations, true),
    // Ports, conversations, DNS and TLS are packet facts: an access log has none of them.
    ...(u.bytes ? packetTables : []),
  ].join('\n');
}

export function renderMarkdown(d: ReportData): string {
  const a = d.analysis;
  const s = d.summary;
  const u = d.unit;
  const source = u === REQUESTS ? 'log' : 'capture';
  const out: string[] = [];
  const inc = d.incident;
  if (inc) {
    out.push(`# ${m(incidentTitle(inc))}${d.customer ? ` (${m(d.customer)})` : ''}`);
    out.push(
      '',
      `From the alert store: the incident's alerts and the per-second summaries of ${inc.traffic.sensors.length === 1 ? 'its sensor' : 'its sensors'}. Generated ${fmtUtc(d.generated)} by Palisade.`,
    );
  } else {
    out.push(`# Attack report${d.customer ? ` for ${m(d.customer)}` : ''}${s.start ? `, ${s.start.slice(0, 10)}` : ''}`);
    out.push('', `${u === REQUESTS ? 'Access log' : 'Capture'} ${code(a.capture.file)}. Generated ${fmtUtc(d.generated)} by Palisade.`);
  }
  out.push('', '## Summary', '', `**${m(s.what)}**`, '');
  out.push(`- When (UTC): ${m(s.when_utc)}`);
  if (s.when_local) out.push(`- When (${m(d.tz)}): ${m(s.when_local)}`);
  out.push(`- Duration: ${fmtDuration(s.duration_s)}`);
  out.push(`- ${s.attacks > 0 ? 'Peak attack rate' : `Peak ${u.one} rate`}: ${fmtInt(s.peak_pps)} ${u.many}/s`);
  if (u.bytes) out.push(`- ${s.attacks > 0 ? 'Peak attack bandwidth' : 'Peak bandwidth'}: ${fmtBits(s.peak_bps)} (${fmtInt(s.peak_bps)} bit/s)`);
  if (s.attacks > 1) out.push(`- Peak of all traffic: ${fmtInt(a.traffic.peak.pps_1s)} ${u.many}/s${u.bytes ? `, ${fmtBits(a.traffic.peak.bps_1s)}` : ''} (over 1 s)`);
  if (s.attacks > 0)
    out.push(
      `- Attack traffic: ${fmtInt(s.attack_packets)} ${u.many}${u.bytes ? `, ${fmtBytes(s.attack_bytes)}` : ''} (${Number.isNaN(s.attack_share) ? `share of all ${u.many} not known` : `${pct(s.attack_share)} of all ${u.many}`})`,
    );
  out.push('', m(s.effect), '', m(s.done));
  if (inc) out.push('', incidentMarkdown(d, inc));
  out.push('', '## Traffic over time', '');
  const tl = d.timeline;
  const rows: string[][] = [];
  // The busiest bins tell the story in a ticket; the HTML report has the full chart.
  const order = tl.total
    .map((n, i) => ({ n, i }))
    // A stored incident's seconds without a summary are unknown, not quiet.
    .filter((b) => inc === undefined || b.n > 0)
    .sort((x, y) => y.n - x.n || x.i - y.i)
    .slice(0, 10)
    .sort((x, y) => x.i - y.i);
  for (const { i, n } of order) {
    const t = new Date((tl.t0 + i * tl.bin_s) * 1000).toISOString();
    rows.push([fmtUtc(t), fmtInt(n / tl.bin_s), ...tl.byVector.map((g) => fmtInt((g.bins[i] ?? 0) / tl.bin_s))]);
  }
  if (rows.length === 0) out.push(inc ? 'No per-second summary is stored for this span.' : `No traffic in this ${source}.`);
  else out.push(`Busiest ${rows.length} intervals of ${tl.bin_s} s, in ${u.many}/s:`, '');
  if (rows.length > 0) out.push(table(['Time', 'All traffic', ...tl.byVector.map((g) => m(vectorName(g.vector)))], rows, [false, true, ...tl.byVector.map(() => true)]));
  if (a.attacks.length > 0) {
    out.push('', '## Attacks');
    a.attacks.forEach((x, i) => {
      out.push('', attack(d, x, i));
    });
  }
  if (inc) {
    out.push('', storedTrafficMarkdown(inc), '');
    out.push("_Times are the sensors' own, as stored._", '');
    return out.join('\n');
  }
  if (u.bytes) {
    out.push('', '## Protocols', '');
    const total = Math.max(1, a.capture.packets);
    out.push(
      table(
        ['Protocol', 'Packets', 'Share'],
        PROTOCOL_LABELS.filter(([k]) => a.traffic.protocols[k] > 0).map(([k, label]) => [label, fmtInt(a.traffic.protocols[k]), pct(a.traffic.protocols[k] / total)]),
        [false, true, true],
      ),
    );
  }
  out.push('', appendix(d), '');
  out.push(`_Times come from the ${source}'s own timestamps._`, '');
  return out.join('\n');
}
