/**
 * The `detection:` section of palisade.yaml: carpet-bombing prefix lengths, the quiet period, and
 * static per-prefix thresholds (pps / bps, overall or per vector) as FastNetMon users set them
 * per host group. Errors name the file, line and key.
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
 */
import { existsSync, readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { UsageError } from '../core/errors.js';
import type { Vector } from '../model/attack.js';
import { CLS_VECTOR } from './classify.js';
import type { DetectOptions, StaticThreshold } from './detector.js';

const VECTORS = new Set(CLS_VECTOR.filter((v): v is Vector => v !== null));

export function loadDetectConfig(path: string): DetectOptions {
  if (!existsSync(path)) throw new UsageError(`${path}: no such configuration file`);
  const text = readFileSync(path, 'utf8');
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const where = (n: Node | null | undefined): string => {
    const off = n?.range?.[0];
    if (off === undefined) return path;
    const p = lc.linePos(off);
    return `${path}:${p.line}:${p.col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const p = e?.linePos?.[0];
    throw new UsageError(`${path}${p ? `:${p.line}:${p.col}` : ''}: ${e?.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (!root) return {};
  if (!isMap(root)) throw new UsageError(`${where(root)}: expected a mapping at the top of palisade.yaml`);
  const det = root.get('detection', true) as Node | undefined;
  if (det === undefined || det === null) return {};
  if (!isMap(det)) throw new UsageError(`${where(det)}: detection must be a mapping`);
  const out: DetectOptions = {};
  const num = (n: unknown, key: string, min: number, max: number): number => {
    const node = n as Node & { value?: unknown };
    const v = node?.value;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new UsageError(`${where(node)}: ${key} must be a number from ${min} to ${max}`);
    return v;
  };
  for (const item of det.items) {
    const key = String((item.key as { value?: unknown })?.value);
    const val = item.value as Node;
    switch (key) {
      case 'prefix4':
        out.prefix4 = num(val, 'detection.prefix4', 8, 32);
        break;
      case 'prefix6':
        out.prefix6 = num(val, 'detection.prefix6', 16, 128);
        if ((out.prefix6 & 7) !== 0) throw new UsageError(`${where(val)}: detection.prefix6 must be a multiple of 8`);
        break;
      case 'quiet_s':
        out.quietS = num(val, 'detection.quiet_s', 1, 3600);
        break;
      case 'thresholds': {
        if (!isSeq(val)) throw new UsageError(`${where(val)}: detection.thresholds must be a list`);
        out.thresholds = val.items.map((t, k) => threshold(t as Node, `detection.thresholds[${k}]`));
        break;
      }
      default:
        throw new UsageError(`${where(item.key as Node)}: unknown key detection.${key} (prefix4, prefix6, quiet_s, thresholds)`);
    }
  }
  return out;

  function threshold(n: Node, at: string): StaticThreshold {
    if (!isMap(n)) throw new UsageError(`${where(n)}: ${at} must be a mapping with prefix and pps/bps`);
    const th: StaticThreshold = { prefix: '' };
    for (const item of n.items) {
      const key = String((item.key as { value?: unknown })?.value);
      const val = item.value as Node & { value?: unknown };
      if (key === 'prefix') {
        const s = String(val?.value ?? '');
        if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(s)) throw new UsageError(`${where(val)}: ${at}.prefix is not an address or CIDR prefix: "${s}"`);
        th.prefix = s;
      } else if (key === 'pps') th.pps = num(val, `${at}.pps`, 0, 1e12);
      else if (key === 'bps') th.bps = num(val, `${at}.bps`, 0, 1e15);
      else if (key === 'vectors') {
        if (!isMap(val)) throw new UsageError(`${where(val)}: ${at}.vectors must map vector names to { pps, bps }`);
        th.vectors = {};
        for (const vi of val.items) {
          const name = String((vi.key as { value?: unknown })?.value);
          if (!VECTORS.has(name as Vector)) throw new UsageError(`${where(vi.key as Node)}: ${at}.vectors: unknown L3/L4 vector "${name}"`);
          const vv = vi.value as Node;
          if (!isMap(vv)) throw new UsageError(`${where(vv)}: ${at}.vectors.${name} must be { pps, bps }`);
          const lim: { pps?: number; bps?: number } = {};
          for (const li of vv.items) {
            const lk = String((li.key as { value?: unknown })?.value);
            if (lk === 'pps') lim.pps = num(li.value, `${at}.vectors.${name}.pps`, 0, 1e12);
            else if (lk === 'bps') lim.bps = num(li.value, `${at}.vectors.${name}.bps`, 0, 1e15);
            else throw new UsageError(`${where(li.key as Node)}: ${at}.vectors.${name}: unknown key ${lk} (pps, bps)`);
          }
          th.vectors[name as Vector] = lim;
        }
      } else throw new UsageError(`${where(item.key as Node)}: ${at}: unknown key ${key} (prefix, pps, bps, vectors)`);
    }
    if (th.prefix === '') throw new UsageError(`${where(n)}: ${at} needs a prefix`);
    return th;
  }
}
