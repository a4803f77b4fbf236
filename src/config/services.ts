/**
 * The `services:` section of palisade.yaml: what the protected prefixes are, so an alert can say
 * whose service is hit and how much it matters (incidents/triage.ts).
 *
 *   services:
 *     - name: shop frontends
 *       prefixes: [203.0.113.0/24, 2001:db8:10::/48]
 *       tier: 1                 # 1 critical, 2 normal (default), 3 best effort
 *       customer: ACME Retail
 *       contact: noc@acme.example
 *       link_bps: 10G           # the service's uplink: an attack's size is judged against it
 *
 * A prefix in two services goes to the longer one (the most specific service).
 */
import type { Node } from 'yaml';
import { type Prefix, parsePrefixes } from '../core/net/prefix.js';
import type { ConfigReader } from './yaml.js';

export interface Service {
  name: string;
  prefixes: Prefix[];
  /** 1 critical, 2 normal, 3 best effort */
  tier: 1 | 2 | 3;
  customer: string;
  contact: string;
  /** The uplink's capacity in bits/s (0: not declared). */
  linkBps: number;
}

const UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

/** `10G`, `400m`, `1e9`, 2500000000 → bits per second; null when not a rate. */
export function parseBps(v: string | number): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmgt]?)(?:bps|b\/s|bit\/s)?\s*$/i.exec(v);
  if (m === null) return null;
  return Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1);
}

export function readServices(cfg: ConfigReader, node: Node, keyNode: Node): Service[] {
  const seq = cfg.seq(node, 'services (a list of services)', keyNode);
  const names = new Set<string>();
  return seq.items.map((n, k) => {
    const at = `services[${k}]`;
    const m = cfg.map(n, `${at} (a mapping with name and prefixes)`);
    const s: Service = { name: '', prefixes: [], tier: 2, customer: '', contact: '', linkBps: 0 };
    for (const item of m.items) {
      const key = cfg.keyOf(item);
      const val = item.value as Node;
      const near = item.key as Node;
      switch (key) {
        case 'name':
          s.name = cfg.string(val, `${at}.name`, near);
          break;
        case 'prefixes':
          for (const p of cfg.seq(val, `${at}.prefixes`, near).items) {
            const text = cfg.string(p as Node, `${at}.prefixes`, near);
            const parsed = parsePrefixes(text, { lenient: false });
            if (typeof parsed === 'string') throw cfg.error(p as Node, `${at}.prefixes: ${parsed}`);
            s.prefixes.push(...parsed);
          }
          break;
        case 'tier':
          s.tier = cfg.number(val, `${at}.tier`, 1, 3, true, near) as 1 | 2 | 3;
          break;
        case 'customer':
          s.customer = cfg.string(val, `${at}.customer`, near);
          break;
        case 'contact':
          s.contact = cfg.string(val, `${at}.contact`, near);
          break;
        case 'link_bps': {
          const raw = (val as { value?: unknown } | null)?.value;
          const bps = typeof raw === 'number' || typeof raw === 'string' ? parseBps(raw) : null;
          if (bps === null) throw cfg.error(val, `${at}.link_bps: a rate in bits/s such as 10G, 400M or 2500000000`);
          s.linkBps = bps;
          break;
        }
        default:
          throw cfg.error(near, `${at}: unknown key ${key} (name, prefixes, tier, customer, contact, link_bps)`);
      }
    }
    if (s.name === '') throw cfg.error(n, `${at} needs a name`);
    if (names.has(s.name)) throw cfg.error(n, `${at}: a second service named ${JSON.stringify(s.name)}`);
    names.add(s.name);
    if (s.prefixes.length === 0) throw cfg.error(n, `${at} (${s.name}) needs prefixes`);
    return s;
  });
}
