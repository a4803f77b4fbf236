/**
 * Human-readable rendering of an Analysis for a terminal: aligned tables, a timeline chart made
 * of block characters, colour only when the output is a TTY.
 */

import { createColors } from 'picocolors';
import type { Analysis } from '../model/analysis.js';
import type { L7Mitigation } from '../model/attack.js';
import { signatureText } from './signature-text.js';

type Colors = ReturnType<typeof createColors>;

export function renderAnalysis(a: Analysis, color: boolean, width = 78): string {
  const c = createColors(color);
  if (a.capture.log) return renderLogAnalysis(a, c, width);
  const out: string[] = [];
  const cap = a.capture;
  const t = a.traffic;
  const est = new Set(t.estimated);
  const mark = (field: string): string => (est.has(field) ? c.dim(' (estimate)') : '');

  out.push(c.bold(`Capture ${cap.file}`));
  out.push(
    table(c, [
      ['format', `${cap.format}${cap.compressed ? ' (gzip)' : ''}, link ${cap.link_types.join(', ') || '-'}`],
      ['packets', `${fmtInt(cap.packets)} (${fmtBytes(cap.bytes)})`],
      ['time', cap.start ? `${cap.start} → ${cap.end} (${fmtDur(cap.duration_s)})` : '-'],
      ['peak', `${fmtInt(t.peak.pps_1s)} pps, ${fmtBits(t.peak.bps_1s)} over 1 s; ${fmtInt(t.peak.pps_100ms)} pps over 100 ms`],
      ['distinct', `${fmtInt(t.unique_sources)} sources, ${fmtInt(t.unique_destinations)} destinations${mark('unique_sources')}`],
      ['skipped', `${cap.skipped.truncated} truncated, ${cap.skipped.malformed} malformed, ${cap.skipped.unsupported} unsupported link/encapsulation`],
    ]),
  );
  if (cap.error) out.push(c.yellow(`warning: ${cap.error}`));
  const fl = cap.flows;
  if (fl) {
    const r = fl.records;
    const kinds = (
      [
        ['NetFlow v5', r.netflow5],
        ['NetFlow v9', r.netflow9],
        ['IPFIX', r.ipfix],
        ['sFlow v5 samples', r.sflow5],
      ] as Array<[string, number]>
    )
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${fmtInt(n)} ${k}`);
    out.push(`flow export: ${fmtInt(fl.datagrams)} datagrams, ${kinds.join(', ') || 'no records'}; the packets above are what they stand for (scaled by sampling)`);
    const l = fl.lost;
    const lost = (
      [
        ['NetFlow v5 flows', l.netflow5_flows],
        ['NetFlow v9 datagrams', l.netflow9_datagrams],
        ['IPFIX records', l.ipfix_records],
        ['sFlow datagrams', l.sflow_datagrams],
        ['sFlow samples', l.sflow_samples],
        ['packets the sFlow agents dropped', l.sflow_drops],
      ] as Array<[string, number]>
    )
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${fmtInt(n)} ${k}`);
    if (lost.length > 0) out.push(c.yellow(`flow export lost (by sequence numbers): ${lost.join(', ')}`));
    if (fl.malformed > 0 || fl.held_dropped > 0)
      out.push(c.yellow(`flow export: ${fmtInt(fl.malformed)} malformed parts skipped, ${fmtInt(fl.held_dropped)} data sets dropped waiting for their template`));
  }
  const q = cap.quic;
  if (q && q.over_budget > 0) {
    out.push(c.yellow(`QUIC: ${fmtInt(q.over_budget)} of ${fmtInt(q.initials)} Initials not decrypted (budget ${fmtInt(q.budget_per_s)}/s): a flood of QUIC-looking packets?`));
  }

  const p = t.protocols;
  out.push('', c.bold('Protocols'));
  const total = Math.max(1, cap.packets);
  out.push(
    table(
      c,
      (
        [
          ['IPv4', p.ipv4],
          ['IPv6', p.ipv6],
          ['TCP', p.tcp],
          ['UDP', p.udp],
          ['ICMP', p.icmp],
          ['ICMPv6', p.icmpv6],
          ['GRE', p.gre],
          ['fragments', p.fragments],
          ['non-IP', p.other],
        ] as Array<[string, number]>
      )
        .filter(([, n]) => n > 0)
        .map(([k, n]) => [k, fmtInt(n), `${((100 * n) / total).toFixed(1)}%`, bar(n / total, 24)]),
    ),
  );

  if (t.timeline.length > 1) {
    out.push('', c.bold(`Packets per ${t.timeline_bin_s === 1 ? 'second' : `${t.timeline_bin_s} s`}${mark('timeline')}`));
    out.push(
      chart(
        t.timeline.map((e) => e.packets),
        width - 12,
        6,
        c,
      ),
    );
    out.push(c.dim(`${' '.repeat(10)}${t.timeline[0]?.t ?? ''} … ${t.timeline[t.timeline.length - 1]?.t ?? ''}`));
  }

  const section = (title: string, field: string, head: string[], rows: string[][]): void => {
    if (rows.length === 0) return;
    out.push('', c.bold(title) + mark(field));
    out.push(table(c, [head.map((h) => c.dim(h)), ...rows]));
  };
  section(
    'Top sources',
    'top_sources',
    ['address', 'packets', 'bytes'],
    t.top_sources.map((e) => [e.ip, fmtInt(e.packets), fmtBytes(e.bytes)]),
  );
  section(
    'Top destinations',
    'top_destinations',
    ['address', 'packets', 'bytes'],
    t.top_destinations.map((e) => [e.ip, fmtInt(e.packets), fmtBytes(e.bytes)]),
  );
  section(
    'Top destination ports',
    'top_dst_ports',
    ['port', 'packets'],
    t.top_dst_ports.map((e) => [`${e.port}/${e.protocol}`, fmtInt(e.packets)]),
  );
  section(
    'Top conversations',
    'top_conversations',
    ['A', 'B', 'packets', 'bytes'],
    t.top_conversations.map((e) => [e.a, e.b, fmtInt(e.packets), fmtBytes(e.bytes)]),
  );
  section(
    'Top DNS names',
    'top_dns_names',
    ['name', 'packets'],
    t.top_dns_names.map((e) => [e.name, fmtInt(e.packets)]),
  );
  section(
    'Top TLS SNI',
    'top_tls_sni',
    ['server name', 'hellos'],
    t.top_tls_sni.map((e) => [e.name, fmtInt(e.packets)]),
  );
  section(
    'Top JA4',
    'top_ja4',
    ['fingerprint', 'hellos'],
    t.top_ja4.map((e) => [e.name, fmtInt(e.packets)]),
  );

  out.push('');
  if (a.attacks.length === 0) out.push(c.green('No attack detected.'));
  else {
    out.push(c.bold(c.red(`${a.attacks.length} attack(s) detected`)));
    for (const at of a.attacks) {
      out.push('');
      const victim = at.victim.prefix ?? at.victim.ip ?? '?';
      const sigText = signatureText(at);
      out.push(c.red(c.bold(`■ ${at.vector}`)) + ` against ${victim}${at.victim.port ? `:${at.victim.port}` : ''} [${at.victim.protocol}]`);
      out.push(
        table(c, [
          ['when', `${at.start} → ${at.end}, detected ${at.detected_at}`],
          ['size', `${fmtInt(at.packets)} packets, ${fmtBytes(at.bytes)}; peak ${fmtInt(at.peak_pps)} pps, ${fmtBits(at.peak_bps)}`],
          [
            'sources',
            `${fmtInt(at.sources.unique)}${at.sources.spoofed_likely ? ' (likely spoofed)' : ''}; top ${at.sources.top
              .slice(0, 3)
              .map((s) => s.ip)
              .join(', ')}`,
          ],
          ...(at.signature
            ? [
                ['signature', at.signature.expression],
                ['', `coverage ${(at.signature.coverage * 100).toFixed(2)}%, collateral ${(at.signature.collateral * 100).toFixed(3)}%`],
              ]
            : [['signature', sigText.summary]]),
          ['evidence', sigText.evidence],
        ]),
      );
      if (at.mitigation.nftables) out.push(c.dim('  nftables:'), indent(at.mitigation.nftables, '    '));
      if (at.mitigation.iptables) out.push(c.dim('  iptables:'), indent(at.mitigation.iptables, '    '));
    }
  }
  return `${out.join('\n')}\n`;
}

/** An access log's analysis: requests, sites, status classes, and the L7 attacks with their rules. */
function renderLogAnalysis(a: Analysis, c: Colors, width: number): string {
  const out: string[] = [];
  const cap = a.capture;
  const log = cap.log as NonNullable<Analysis['capture']['log']>;
  const t = a.traffic;
  const h = t.http;
  out.push(c.bold(`Access log ${cap.file}`));
  const formats = log.formats.map((f) => `${log.formats.length > 1 ? `${f.file}: ` : ''}${f.format}${f.detected ? ' (detected)' : ''}`).join('; ');
  const malformed = log.formats
    .filter((f) => f.malformed > 0)
    .map((f) => `${log.formats.length > 1 ? `${f.file} ` : ''}line ${f.malformed_lines.slice(0, 8).join(', ')}${f.malformed > 8 ? ', …' : ''}`)
    .join('; ');
  out.push(
    table(c, [
      ['format', formats],
      [
        'requests',
        `${fmtInt(cap.packets)} of ${fmtInt(log.lines)} lines; ${fmtInt(log.malformed)} malformed${malformed ? ` (${malformed})` : ''}, ${fmtInt(log.skipped)} blank or comment`,
      ],
      ['time', cap.start ? `${cap.start} → ${cap.end} (${fmtDur(cap.duration_s)})` : '-'],
      ['peak', `${fmtInt(t.peak.pps_1s)} requests/s over 1 s`],
      ['clients', `${fmtInt(t.unique_sources)} distinct (estimate)${h && h.clients_evicted > 0 ? `; ${fmtInt(h.clients_evicted)} evicted from the client table` : ''}`],
      ...(h
        ? [
            ['sites', h.hosts.map((x) => `${x.host || '(no host)'} ${fmtInt(x.requests)}`).join(', ')],
            [
              'status',
              Object.entries(h.status)
                .filter(([, n]) => n > 0)
                .map(([k, n]) => `${k} ${fmtInt(n)}`)
                .join(', '),
            ],
          ]
        : []),
    ]),
  );
  if (cap.error) out.push(c.yellow(`warning: ${cap.error}`));
  if (t.timeline.length > 1) {
    out.push('', c.bold(`Requests per ${t.timeline_bin_s === 1 ? 'second' : `${t.timeline_bin_s} s`}`));
    out.push(
      chart(
        t.timeline.map((e) => e.packets),
        width - 12,
        6,
        c,
      ),
    );
    out.push(c.dim(`${' '.repeat(10)}${t.timeline[0]?.t ?? ''} … ${t.timeline[t.timeline.length - 1]?.t ?? ''}`));
  }
  out.push('');
  if (a.attacks.length === 0) out.push(c.green('No attack detected.'));
  else out.push(c.bold(c.red(`${a.attacks.length} attack(s) detected`)));
  for (const at of a.attacks) {
    const m = at.mitigation as L7Mitigation;
    const src = at.sources;
    const sig = at.signature;
    out.push(
      '',
      `${c.red(c.bold(`■ ${at.vector}`))} against ${at.victim.host ?? at.victim.ip ?? 'the site'} (${at.victim.protocol}${at.victim.host === undefined ? ', no Host logged' : ''})`,
    );
    const rows: string[][] = [
      ['when', `${at.start} → ${at.end}, detected ${at.detected_at}`],
      ['size', `${fmtInt(at.requests ?? at.packets)} requests; peak ${fmtInt(at.peak_rps ?? at.peak_pps)} requests/s`],
      [
        'sources',
        `${fmtInt(src.unique)} addresses; top ${src.top
          .slice(0, 3)
          .map((x) => `${x.ip} (${fmtInt(x.packets)})`)
          .join(', ')}`,
      ],
    ];
    if (src.top_prefixes && src.top_prefixes.length > 0)
      rows.push([
        '',
        `prefixes ${src.top_prefixes
          .slice(0, 3)
          .map((x) => `${x.prefix} (${x.addresses})`)
          .join(', ')}`,
      ]);
    if (src.top_asns && src.top_asns.length > 0)
      rows.push([
        '',
        `ASNs ${src.top_asns
          .slice(0, 3)
          .map((x) => `AS${x.asn} ${x.name} (${x.addresses})`)
          .join(', ')}`,
      ]);
    if (sig) {
      rows.push(['signature', sig.kind === 'source_list' && sig.list ? `${sig.expression}  (${fmtInt(sig.list.addresses.length)} addresses)` : sig.expression]);
      rows.push(['', `coverage ${(sig.coverage * 100).toFixed(2)}%, collateral ${(sig.collateral * 100).toFixed(3)}% (measured over the log)`]);
    }
    if (m.rate_limit) {
      const r = m.rate_limit.ratelimit;
      rows.push([
        'rate limit',
        `${r.requests_per_period} per ${r.period} s per ${r.characteristics.filter((x) => x !== 'cf.colo.id').join(', ')}, block ${r.mitigation_timeout} s`,
      ]);
      rows.push(['', `on ${m.rate_limit.expression}${r.counting_expression ? `; counting ${r.counting_expression}` : ''}`]);
    }
    rows.push([
      'block lists',
      `${fmtInt(m.lists.ips.length)} addresses${m.lists.prefixes.length > 0 ? `, ${m.lists.prefixes.length} /24 prefixes (${m.lists.prefixes.slice(0, 3).join(', ')}${m.lists.prefixes.length > 3 ? ', …' : ''})` : ''}`,
    ]);
    if (m.note) rows.push(['note', m.note]);
    out.push(table(c, rows));
  }
  if (a.attacks.length > 0) out.push('', c.dim('Rules, lists and nftables/iptables text of the address lists: --json (mitigation.custom_rule, .rate_limit, .lists).'));
  return `${out.join('\n')}\n`;
}

function indent(s: string, pad: string): string {
  return s
    .trimEnd()
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

/** Left-aligned first column, right-aligned numeric-looking columns. */
function table(c: Colors, rows: string[][]): string {
  const strip = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, strip(cell).length);
    });
  }
  return rows
    .map((r) =>
      `  ${r
        .map((cell, i) => {
          const pad = (widths[i] as number) - strip(cell).length;
          // One decimal point at most, so IPv4 addresses stay left-aligned like other names.
          const numeric = i > 0 && /^[\d,]+(\.\d+)?\s?%?\s?[kMGT]?(B|bit\/s|pps)?$/.test(strip(cell));
          return numeric ? ' '.repeat(pad) + cell : i === 0 ? c.cyan(cell) + ' '.repeat(pad) : cell + ' '.repeat(pad);
        })
        .join('  ')}`.trimEnd(),
    )
    .join('\n');
}

function bar(frac: number, width: number): string {
  const n = Math.round(frac * width * 8);
  const full = Math.floor(n / 8);
  const rest = n % 8;
  return '█'.repeat(full) + (rest > 0 ? ' ▏▎▍▌▋▊▉'[rest] : '');
}

/** A column chart: one column per bin (resampled to width by taking each group's maximum). */
function chart(values: number[], width: number, height: number, c: Colors): string {
  const cols: number[] = [];
  const per = Math.max(1, Math.ceil(values.length / width));
  for (let i = 0; i < values.length; i += per) cols.push(Math.max(...values.slice(i, i + per)));
  const max = Math.max(1, ...cols);
  const lines: string[] = [];
  const blocks = ' ▁▂▃▄▅▆▇█';
  for (let row = height - 1; row >= 0; row--) {
    let line = '';
    for (const v of cols) {
      const level = (v / max) * height - row;
      line += level >= 1 ? '█' : level <= 0 ? ' ' : (blocks[Math.round(level * 8)] as string);
    }
    const label = row === height - 1 ? fmtInt(max) : row === 0 ? '0' : '';
    lines.push(`${label.padStart(9)} ${c.cyan(line)}`);
  }
  return lines.join('\n');
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtBytes(n: number): string {
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${u[i]}`;
}

export function fmtBits(n: number): string {
  const u = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${u[i]}`;
}

function fmtDur(s: number): string {
  if (s < 1) return `${(s * 1000).toFixed(1)} ms`;
  if (s < 120) return `${s.toFixed(2)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
