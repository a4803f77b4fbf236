/**
 * A scheme over plain records: the same field names and types as a real catalogue, with values
 * given directly (one Map per record). Conformance vectors, tests and the `rules test` command
 * evaluate expressions this way: the vectors define records by field values, not by packets.
 */
import { parseAddr } from '../core/net/prefix.js';
import { type Field, makeScheme, type Scheme } from './types.js';
import { BOOL, BYTES, elemOf, INT, IP, IpValue, isArray, isMap, type Type, utf8, type Value } from './values.js';

export type RecordView = Map<string, Value>;

export function recordScheme(base: Scheme<unknown>): Scheme<RecordView> {
  const fields: Field<RecordView>[] = [];
  for (const f of base.fields.values()) {
    const name = f.name;
    fields.push({
      name,
      type: f.type,
      doc: f.doc,
      get: f.type === BOOL ? (r) => r.get(name) === true : (r) => r.get(name),
      int:
        f.type === INT
          ? (r) => {
              const x = r.get(name);
              return typeof x === 'number' ? x : Number.NaN;
            }
          : undefined,
    });
  }
  return makeScheme(`${base.name}-record`, fields);
}

/** Convert a JSON value (conformance format) to a runtime value of type t; throws on a mismatch. */
export function jsonToValue(t: Type, j: unknown): Value {
  if (t === BOOL) {
    if (typeof j !== 'boolean') throw new TypeError('expected a boolean');
    return j;
  }
  if (t === INT) {
    if (typeof j !== 'number' || !Number.isInteger(j)) throw new TypeError('expected an integer');
    return j;
  }
  if (t === BYTES) {
    if (typeof j === 'string') return utf8(j);
    if (j !== null && typeof j === 'object' && typeof (j as { hex?: unknown }).hex === 'string') {
      const h = (j as { hex: string }).hex;
      if (!/^([0-9a-fA-F]{2})*$/.test(h)) throw new TypeError('bad hex');
      return Uint8Array.from(h.match(/../g) ?? [], (x) => Number.parseInt(x, 16));
    }
    throw new TypeError('expected a string or {hex}');
  }
  if (t === IP) {
    const a = typeof j === 'string' ? parseAddr(j) : null;
    if (a === null) throw new TypeError('expected an IP address');
    return a.family === 4
      ? IpValue.of4((((a.addr[0] as number) << 24) | ((a.addr[1] as number) << 16) | ((a.addr[2] as number) << 8) | (a.addr[3] as number)) >>> 0)
      : IpValue.of6(a.addr);
  }
  if (isArray(t)) {
    if (!Array.isArray(j)) throw new TypeError('expected an array');
    return j.map((x) => jsonToValue(elemOf(t), x));
  }
  if (isMap(t)) {
    if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new TypeError('expected an object');
    const m = new Map<string, Value>();
    for (const [k, v] of Object.entries(j)) {
      let key = '';
      for (const x of utf8(k)) key += String.fromCharCode(x);
      m.set(key, jsonToValue(elemOf(t), v));
    }
    return m;
  }
  throw new TypeError(`unsupported type ${t}`);
}

/** Build a record from a JSON object of field values; unknown names and bad values are errors. */
export function recordFromJson(scheme: Scheme<RecordView>, obj: Record<string, unknown>): RecordView {
  const r: RecordView = new Map();
  for (const [k, v] of Object.entries(obj)) {
    const f = scheme.fields.get(k);
    if (!f) throw new TypeError(`unknown field ${k} in record`);
    try {
      r.set(k, jsonToValue(f.type, v));
    } catch (e) {
      throw new TypeError(`field ${k}: ${(e as Error).message}`);
    }
  }
  return r;
}
