/**
 * Reading the report's input, the `palisade analyze --json` object, from a file or stdin. The
 * file may come from elsewhere (a ticket, another machine), so every field the report uses is
 * checked before rendering; a bad one is named by its path (`attacks[0].start`) in an InputError.
 * Lists the report can do without (DNS names, SNI, JA4, conversations) default to empty.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import type { Analysis } from '../model/analysis.js';
import type { GroundTruth } from './replay.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

class Bad extends Error {}

type Obj = Record<string, unknown>;

function obj(v: unknown, path: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Bad(`${path}: expected an object`);
  return v as Obj;
}
function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new Bad(`${path}: expected an array`);
  return v;
}
function count(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Bad(`${path}: expected a number ≥ 0`);
  return v;
}
function share(v: unknown, path: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Bad(`${path}: expected a share between 0 and 1`);
  return v;
}
function str(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new Bad(`${path}: expected a string`);
  return v;
}
function iso(v: unknown, path: string): string {
  if (typeof v !== 'string' || !ISO.test(v) || Number.isNaN(Date.parse(v))) throw new Bad(`${path}: expected an ISO-8601 UTC time`);
  return v;
}
function isoOrNull(v: unknown, path: string): void {
  if (v !== null) iso(v, path);
}

/** The lists of name counts, addresses, ports, conversations: each row's fields typed. */
function rows(t: Obj, key: string, fields: Record<string, (v: unknown, p: string) => unknown>, optional: boolean): void {
  if (t[key] === undefined && optional) {
    t[key] = [];
    return;
  }
  arr(t[key], `traffic.${key}`).forEach((r, i) => {
    const o = obj(r, `traffic.${key}[${i}]`);
    for (const [f, check] of Object.entries(fields)) check(o[f], `traffic.${key}[${i}].${f}`);
  });
}

function check(doc: unknown): Analysis {
  const o = obj(doc, 'analysis');
  const cap = obj(o.capture, 'capture');
  str(cap.file, 'capture.file');
  str(cap.format, 'capture.format');
  for (const [i, l] of arr(cap.link_types, 'capture.link_types').entries()) str(l, `capture.link_types[${i}]`);
  count(cap.packets, 'capture.packets');
  count(cap.bytes, 'capture.bytes');
  isoOrNull(cap.start, 'capture.start');
  isoOrNull(cap.end, 'capture.end');
  count(cap.duration_s, 'capture.duration_s');
  const sk = obj(cap.skipped, 'capture.skipped');
  for (const k of ['truncated', 'malformed', 'unsupported']) count(sk[k], `capture.skipped.${k}`);
  if (cap.error !== undefined && cap.error !== null) str(cap.error, 'capture.error');

  const t = obj(o.traffic, 'traffic');
  const pr = obj(t.protocols, 'traffic.protocols');
  for (const k of ['ipv4', 'ipv6', 'tcp', 'udp', 'icmp', 'icmpv6', 'gre', 'fragments', 'other']) count(pr[k], `traffic.protocols.${k}`);
  if (t.timeline_bin_s === undefined) t.timeline_bin_s = 1;
  else if (count(t.timeline_bin_s, 'traffic.timeline_bin_s') === 0) throw new Bad('traffic.timeline_bin_s: expected a number > 0');
  rows(t, 'timeline', { t: iso, packets: count, bytes: count }, false);
  const pk = obj(t.peak, 'traffic.peak');
  count(pk.pps_1s, 'traffic.peak.pps_1s');
  count(pk.bps_1s, 'traffic.peak.bps_1s');
  t.unique_sources = t.unique_sources === undefined ? 0 : count(t.unique_sources, 'traffic.unique_sources');
  t.unique_destinations = t.unique_destinations === undefined ? 0 : count(t.unique_destinations, 'traffic.unique_destinations');
  const address = { ip: str, packets: count, bytes: count };
  rows(t, 'top_sources', address, false);
  rows(t, 'top_destinations', address, false);
  rows(t, 'top_dst_ports', { protocol: str, port: count, packets: count }, false);
  rows(t, 'top_conversations', { a: str, b: str, packets: count, bytes: count }, true);
  for (const k of ['top_dns_names', 'top_tls_sni', 'top_ja4']) rows(t, k, { name: str, packets: count }, true);
  if (t.estimated === undefined) t.estimated = [];
  else arr(t.estimated, 'traffic.estimated');

  arr(o.attacks, 'attacks').forEach((x, i) => {
    const p = `attacks[${i}]`;
    const a = obj(x, p);
    str(a.id, `${p}.id`);
    str(a.vector, `${p}.vector`);
    const v = obj(a.victim, `${p}.victim`);
    str(v.protocol, `${p}.victim.protocol`);
    if (v.ip !== undefined) str(v.ip, `${p}.victim.ip`);
    if (v.prefix !== undefined) str(v.prefix, `${p}.victim.prefix`);
    if (v.port !== undefined) count(v.port, `${p}.victim.port`);
    iso(a.start, `${p}.start`);
    iso(a.end, `${p}.end`);
    iso(a.detected_at, `${p}.detected_at`);
    for (const k of ['packets', 'bytes', 'peak_pps', 'peak_bps']) count(a[k], `${p}.${k}`);
    const s = obj(a.sources, `${p}.sources`);
    count(s.unique, `${p}.sources.unique`);
    if (typeof s.spoofed_likely !== 'boolean') throw new Bad(`${p}.sources.spoofed_likely: expected true or false`);
    arr(s.top, `${p}.sources.top`).forEach((r, j) => {
      const ro = obj(r, `${p}.sources.top[${j}]`);
      str(ro.ip, `${p}.sources.top[${j}].ip`);
      count(ro.packets, `${p}.sources.top[${j}].packets`);
    });
    const g = obj(a.signature, `${p}.signature`);
    str(g.expression, `${p}.signature.expression`);
    share(g.coverage, `${p}.signature.coverage`);
    share(g.collateral, `${p}.signature.collateral`);
    const m = obj(a.mitigation, `${p}.mitigation`);
    str(m.nftables, `${p}.mitigation.nftables`);
    str(m.iptables, `${p}.mitigation.iptables`);
  });
  return o as unknown as Analysis;
}

/** Parse `palisade analyze --json` output, refusing anything else with a message naming the field. */
export function parseAnalysis(text: string, name: string): Analysis {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${name}: not JSON (${(err as Error).message}); expected the output of "palisade analyze --json"`, 'E_FORMAT');
  }
  const o = doc as Obj | null;
  if (o === null || typeof o !== 'object' || Array.isArray(o) || !('capture' in o) || !('traffic' in o) || !('attacks' in o))
    throw new InputError(`${name}: not an analysis (needs capture, traffic and attacks); expected the output of "palisade analyze --json"`, 'E_FORMAT');
  try {
    return check(o);
  } catch (err) {
    if (err instanceof Bad) throw new InputError(`${name}: ${err.message}`, 'E_FORMAT');
    throw err;
  }
}

export function readAnalysis(path: string): Analysis {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 'E_FORMAT');
  }
  return parseAnalysis(text, path);
}

/** The ground truth `palisade generate` writes beside a scenario capture (X.truth.json). */
export function readGroundTruth(path: string): GroundTruth {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 'E_FORMAT');
  }
  try {
    const o = obj(doc, 'truth');
    const l = obj(o.labels, 'labels');
    if (l.encoding !== 'base64-u8') throw new Bad(`labels.encoding: expected "base64-u8"`);
    const labels = new Uint8Array(Buffer.from(str(l.data, 'labels.data'), 'base64'));
    const attacks = arr(o.attacks, 'attacks').map((x, i) => {
      const a = obj(x, `attacks[${i}]`);
      const v = obj(a.victim, `attacks[${i}].victim`);
      return {
        label: count(a.label, `attacks[${i}].label`),
        vector: str(a.vector, `attacks[${i}].vector`),
        victim: {
          ip: v.ip === undefined ? undefined : str(v.ip, `attacks[${i}].victim.ip`),
          prefix: v.prefix === undefined ? undefined : str(v.prefix, `attacks[${i}].victim.prefix`),
        },
      };
    });
    return { file: path, labels, attacks };
  } catch (err) {
    if (err instanceof Bad) throw new InputError(`${path}: not a palisade generate truth file: ${err.message}`, 'E_FORMAT');
    throw err;
  }
}
