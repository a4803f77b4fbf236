/**
 * The `detection:` section of palisade.yaml: carpet-bombing prefix lengths, the quiet period, and
 * static per-prefix thresholds (pps / bps, overall or per vector) as FastNetMon users set them
 * per host group.
 *
 *   detection:
 *     prefix4: 24
 *     prefix6: 64
 *     quiet_s: 10
 *     thresholds:
 *       - prefix: 203.0.113.0/24
 *         pps: 20000
 *         bps: 1000000000
 *         vectors:
 *           dns_amplification: { pps: 500 }
 *     login_paths: [/api/v2/session, /customer/signin]   # L7: the site's login endpoints
 */
import type { Node, Pair } from 'yaml';
import { parsePrefixes } from '../core/net/prefix.js';
import type { DetectOptions, StaticThreshold } from '../detect/l34/detector.js';
import { L34_VECTORS, type Vector } from '../model/attack.js';
import type { ConfigReader } from './yaml.js';

const VECTORS = new Set<string>(L34_VECTORS);

/** The section: L3/L4 detection's options, and L7's login endpoints (core/http-paths.ts loginMatcher). */
export interface DetectionSection extends DetectOptions {
  loginPaths?: string[];
}

export function readDetection(cfg: ConfigReader, node: Node, keyNode: Node): DetectionSection {
  const det = cfg.map(node, 'detection', keyNode);
  const out: DetectionSection = {};
  for (const item of det.items) {
    const key = cfg.keyOf(item);
    const val = item.value as Node;
    const near = item.key as Node;
    switch (key) {
      case 'prefix4':
        out.prefix4 = cfg.number(val, 'detection.prefix4', 8, 32, true, near);
        break;
      case 'prefix6':
        out.prefix6 = cfg.number(val, 'detection.prefix6', 16, 128, true, near);
        if ((out.prefix6 & 7) !== 0) throw cfg.error(val, 'detection.prefix6 must be a multiple of 8');
        break;
      case 'quiet_s':
        out.quietS = cfg.number(val, 'detection.quiet_s', 1, 3600, false, near);
        break;
      case 'thresholds':
        out.thresholds = cfg.seq(val, 'detection.thresholds', near).items.map((t, k) => threshold(cfg, t, `detection.thresholds[${k}]`));
        break;
      case 'login_paths':
        out.loginPaths = cfg.seq(val, 'detection.login_paths', near).items.map((p, k) => {
          const s = cfg.string(p as Node, `detection.login_paths[${k}]`, near);
          if (!s.startsWith('/')) throw cfg.error(p as Node, `detection.login_paths[${k}]: a path starting with / (got ${JSON.stringify(s)})`);
          return s;
        });
        break;
      default:
        throw cfg.error(near, `unknown key detection.${key} (prefix4, prefix6, quiet_s, thresholds, login_paths)`);
    }
  }
  return out;
}

function threshold(cfg: ConfigReader, n: Node, at: string): StaticThreshold {
  const m = cfg.map(n, `${at} (a mapping with prefix and pps/bps)`);
  let th: StaticThreshold | null = null;
  const rest: Omit<StaticThreshold, 'prefix'> = {};
  for (const item of m.items) {
    const key = cfg.keyOf(item);
    const val = item.value as Node;
    const near = item.key as Node;
    if (key === 'prefix') th = { prefix: prefixOf(cfg, val, `${at}.prefix`, near) };
    else if (key === 'pps') rest.pps = cfg.number(val, `${at}.pps`, 0, 1e12, false, near);
    else if (key === 'bps') rest.bps = cfg.number(val, `${at}.bps`, 0, 1e15, false, near);
    else if (key === 'vectors') rest.vectors = vectors(cfg, val, at, near);
    else throw cfg.error(near, `${at}: unknown key ${key} (prefix, pps, bps, vectors)`);
  }
  if (th === null) throw cfg.error(n, `${at} needs a prefix`);
  return Object.assign(th, rest);
}

/** One CIDR prefix, strictly: a full address, a length within the family's, no host bits set. */
function prefixOf(cfg: ConfigReader, node: Node, what: string, near: Node) {
  const s = cfg.string(node, what, near);
  if (s.includes('-')) throw cfg.error(node, `${what}: a range is not a prefix: "${s}"`);
  const p = parsePrefixes(s, { lenient: false });
  if (typeof p === 'string') throw cfg.error(node, `${what}: ${p}`);
  return p[0] as StaticThreshold['prefix'];
}

function vectors(cfg: ConfigReader, node: Node, at: string, near: Node): StaticThreshold['vectors'] {
  const m = cfg.map(node, `${at}.vectors (vector names to { pps, bps })`, near);
  const out: NonNullable<StaticThreshold['vectors']> = {};
  for (const vi of m.items as Pair<Node, Node>[]) {
    const name = cfg.keyOf(vi);
    if (!VECTORS.has(name)) throw cfg.error(vi.key, `${at}.vectors: unknown L3/L4 vector "${name}"`);
    const lims = cfg.map(vi.value, `${at}.vectors.${name} ({ pps, bps })`, vi.key);
    const lim: { pps?: number; bps?: number } = {};
    for (const li of lims.items) {
      const lk = cfg.keyOf(li);
      if (lk === 'pps') lim.pps = cfg.number(li.value, `${at}.vectors.${name}.pps`, 0, 1e12, false, li.key);
      else if (lk === 'bps') lim.bps = cfg.number(li.value, `${at}.vectors.${name}.bps`, 0, 1e15, false, li.key);
      else throw cfg.error(li.key, `${at}.vectors.${name}: unknown key ${lk} (pps, bps)`);
    }
    out[name as Vector] = lim;
  }
  return out;
}
