/**
 * Reading the report's input, the `palisade analyze --json` object, from a file or stdin. The
 * file may come from elsewhere (a ticket, another machine), so it is checked against
 * schema/analysis.schema.json before rendering; a bad field is named by its path
 * (`attacks[0].start`) in an InputError. Lists the report can do without (DNS names, SNI, JA4,
 * conversations) default to empty.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import type { Analysis } from '../model/analysis.js';
import { schemaProblem } from '../model/validate.js';
import type { GroundTruth } from './replay.js';

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
function str(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new Bad(`${path}: expected a string`);
  return v;
}

/** Lists and figures a report can do without: older or trimmed analyses still render. */
function withDefaults(o: Obj): void {
  const t = o.traffic;
  if (t === null || typeof t !== 'object' || Array.isArray(t)) return;
  const traffic = t as Obj;
  for (const k of ['top_conversations', 'top_dns_names', 'top_tls_sni', 'top_ja4', 'estimated']) if (traffic[k] === undefined) traffic[k] = [];
  if (traffic.timeline_bin_s === undefined) traffic.timeline_bin_s = 1;
  if (traffic.unique_sources === undefined) traffic.unique_sources = 0;
  if (traffic.unique_destinations === undefined) traffic.unique_destinations = 0;
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
  withDefaults(o);
  const problem = schemaProblem(o, 'analysis');
  if (problem !== null) throw new InputError(`${name}: ${problem}`, 'E_FORMAT');
  return o as unknown as Analysis;
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
          host: v.host === undefined ? undefined : str(v.host, `attacks[${i}].victim.host`),
        },
      };
    });
    return { file: path, labels, attacks };
  } catch (err) {
    if (err instanceof Bad) throw new InputError(`${path}: not a palisade generate truth file: ${err.message}`, 'E_FORMAT');
    throw err;
  }
}
