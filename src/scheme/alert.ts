/**
 * The alert scheme: alert fields for the Rules language, so a silence is an expression like any
 * other rule — `alert.vector eq "ntp_amplification" and alert.victim.ip in {203.0.113.0/24}`,
 * `alert.customer eq "lab" and alert.severity in {"info" "low"}`, `alert.fingerprint eq "…"`.
 */
import { parseAddr } from '../core/net/prefix.js';
import type { Alert } from '../model/alert.js';
import { type Field, makeScheme, type Scheme } from './types.js';
import { BYTES, INT, IP, IpValue, latin1 } from './values.js';

type F = Field<Alert>;

const bytes = (name: string, doc: string, get: (a: Alert) => string | null | undefined): F => ({
  name,
  type: BYTES,
  doc,
  get: (a) => {
    const s = get(a);
    return s === null || s === undefined ? undefined : latin1(s);
  },
});
const int = (name: string, doc: string, get: (a: Alert) => number | null | undefined): F => ({
  name,
  type: INT,
  doc,
  get: (a) => {
    const x = get(a);
    return x === null || x === undefined || Number.isNaN(x) ? undefined : Math.round(x);
  },
});

function ipOf(text: string | undefined): IpValue | undefined {
  if (text === undefined) return undefined;
  const p = parseAddr(text);
  if (p === null) return undefined;
  const a = p.addr;
  return p.family === 4 ? IpValue.of4((((a[0] as number) << 24) | ((a[1] as number) << 16) | ((a[2] as number) << 8) | (a[3] as number)) >>> 0) : IpValue.of6(a);
}

export const ALERT_FIELDS: F[] = [
  bytes('alert.vector', 'attack vector, e.g. udp_flood', (a) => a.vector),
  bytes('alert.fingerprint', 'vector|victim|protocol: one alert per attack', (a) => a.fingerprint),
  bytes('alert.sensor', 'the sensor that raised it', (a) => a.sensor),
  bytes('alert.severity', 'critical, high, medium, low or info', (a) => a.severity),
  bytes('alert.urgency', 'high, medium or low', (a) => a.urgency),
  int('alert.score', "triage's score, 0-100 (rounded)", (a) => a.score),
  int('alert.confidence', "detection's confidence in percent", (a) => a.confidence * 100),
  { name: 'alert.victim.ip', type: IP, doc: 'the victim address (absent for a prefix victim)', get: (a) => ipOf(a.victim.ip) },
  bytes('alert.victim.prefix', 'the victim prefix of a carpet-bombing attack', (a) => a.victim.prefix),
  int('alert.victim.port', 'the victim port, when the attack has one', (a) => a.victim.port),
  bytes('alert.victim.protocol', 'tcp, udp, icmp, ...', (a) => a.victim.protocol),
  bytes('alert.service', 'the protected service (services: in palisade.yaml)', (a) => a.service),
  bytes('alert.customer', "the service's customer", (a) => a.customer),
  int('alert.peak_pps', 'peak packets per second', (a) => a.attack.peak_pps),
  int('alert.peak_bps', 'peak bits per second', (a) => a.attack.peak_bps),
  bytes('alert.signature', "the attack's signature expression", (a) => a.attack.signature?.expression),
];

export const alertScheme: Scheme<Alert> = makeScheme('alert', ALERT_FIELDS);
