/**
 * Formatting shared by the HTML and Markdown reports: escaping of untrusted strings (everything
 * in an analysis came from a capture someone else controls), numbers, durations, times in UTC
 * and in the customer's time zone, and the plain names of attack vectors.
 */
import { UsageError } from '../core/errors.js';
import type { Analysis } from '../model/analysis.js';
import type { Vector } from '../model/attack.js';

export { fmtBits, fmtBytes, fmtInt } from './terminal.js';

/** C0/C1 control characters other than tab, line feed and carriage return. */
const CONTROL = /[^\P{Cc}\t\n\r]/gu;

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text or attribute value for HTML. Control characters become U+FFFD so nothing invisible hides in names. */
export function escapeHtml(s: unknown): string {
  return String(s)
    .replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string)
    .replace(CONTROL, '\ufffd');
}

/**
 * Inline Markdown text (also safe inside a table cell): the characters CommonMark or GFM read as
 * inline markup, raw HTML, entities or cell separators are backslash-escaped and line breaks
 * become spaces. Dots and colons stay, so addresses read plainly. For inline positions only: the
 * renderer never starts a line with such text, so block markers (#, -, 1.) cannot take effect.
 */
export function escapeMd(s: unknown): string {
  return String(s)
    .replace(/[\r\n]+/g, ' ')
    .replace(CONTROL, '\ufffd')
    .replace(/[\\`*_{}[\]<>|~&]/g, '\\$&');
}

/** A fenced code block whose fence is longer than any backtick run inside (CommonMark §4.5). */
export function mdCodeBlock(text: string, lang = ''): string {
  let longest = 0;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${text.replace(/\n+$/, '')}\n${fence}`;
}

export function pct(share: number, digits = 1): string {
  return `${(share * 100).toFixed(digits)}%`;
}

export function fmtDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '-';
  if (s < 1) return `${(s * 1000).toFixed(0)} ms`;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/**
 * Seconds since the epoch of an ISO-8601 UTC time, keeping the fraction beyond milliseconds
 * (captures have µs or ns timestamps; Date.parse would drop them and shift window ends).
 */
export function isoSeconds(iso: string): number {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(\.\d+)?Z$/.exec(iso);
  if (!m) return Date.parse(iso) / 1000;
  return Date.parse(`${m[1]}Z`) / 1000 + (m[2] ? Number(`0${m[2]}`) : 0);
}

/** Throws a UsageError naming the zone when Intl does not know it. */
export function checkTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
  } catch {
    throw new UsageError(`unknown time zone "${tz}" (use an IANA name such as Europe/Paris)`);
  }
}

/** `2021-09-21 15:45:24.430 UTC` (milliseconds shown only when the time has them). */
export function fmtUtc(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{1,3})?/.exec(iso);
  if (!m) return iso;
  return `${m[1]} ${m[2]}${m[3] && !/^\.0+$/.test(m[3]) ? m[3] : ''} UTC`;
}

/** The same instant in a named time zone, with the zone's abbreviation or offset. */
export function fmtZoned(iso: string, tz: string): string {
  const d = new Date(isoSeconds(iso) * 1000);
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')} ${get('timeZoneName')}`;
}

const VECTOR_NAMES: Record<Vector, string> = {
  tcp_syn_flood: 'TCP SYN flood',
  tcp_synack_flood: 'TCP SYN-ACK flood (reflection)',
  tcp_ack_flood: 'TCP ACK flood',
  tcp_rst_flood: 'TCP RST flood',
  tcp_flag_anomaly: 'TCP flag anomaly',
  udp_flood: 'UDP flood',
  icmp_flood: 'ICMP flood',
  ip_fragment_flood: 'IP fragment flood',
  gre_flood: 'GRE flood',
  ip_protocol_flood: 'IP protocol flood',
  dns_amplification: 'DNS amplification',
  ntp_amplification: 'NTP amplification',
  ssdp_amplification: 'SSDP amplification',
  memcached_amplification: 'memcached amplification',
  cldap_amplification: 'CLDAP amplification',
  chargen_amplification: 'CharGEN amplification',
  snmp_amplification: 'SNMP amplification',
  udp_reflection: 'UDP reflection',
  dns_random_subdomain: 'DNS random-subdomain attack',
  http_flood: 'HTTP flood',
  slowloris: 'Slowloris (slow HTTP)',
  credential_stuffing: 'credential stuffing',
  scanner: 'scanning',
};

export function vectorName(v: string): string {
  return (VECTOR_NAMES as Record<string, string>)[v] ?? v;
}

/** The analysis's protocol counters as a report names them, in the order reports list them. */
export const PROTOCOL_LABELS: ReadonlyArray<readonly [keyof Analysis['traffic']['protocols'], string]> = [
  ['ipv4', 'IPv4'],
  ['ipv6', 'IPv6'],
  ['tcp', 'TCP'],
  ['udp', 'UDP'],
  ['icmp', 'ICMP'],
  ['icmpv6', 'ICMPv6'],
  ['gre', 'GRE'],
  ['fragments', 'IP fragments'],
  ['other', 'non-IP'],
];
/** Protocol names whose usual spelling is not all capitals. */
const PROTOCOL_NAMES: Record<string, string> = { icmpv6: 'ICMPv6', ipv6: 'IPv6', ipv4: 'IPv4' };

/** `10.10.10.10 UDP port 22` or `192.0.2.0/24 (carpet bombing) TCP`. */
export function victimText(v: { ip?: string; prefix?: string; port?: number; protocol: string; host?: string }): string {
  // An L7 attack's victim is a site: its host name, and the address where it is known.
  if (v.host !== undefined && v.host !== '') return `${v.host} (HTTP${v.ip ? ` on ${v.ip}` : ''})`;
  const who = v.ip ?? (v.prefix ? `${v.prefix} (carpet bombing)` : 'unknown host');
  const proto = v.protocol ? ` ${PROTOCOL_NAMES[v.protocol.toLowerCase()] ?? v.protocol.toUpperCase()}` : '';
  return `${who}${proto}${v.port !== undefined ? ` port ${v.port}` : ''}`;
}
