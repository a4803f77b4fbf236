/**
 * Field catalogues (DESIGN.md "Scheme"): a field is `{ name, type, doc, get(view) }`. The Rules
 * compiler, detection, exporters and the dashboard all read the same catalogue.
 *
 * `get` is the one generic accessor (it may allocate: strings, addresses). Hot fields also carry
 * allocation-free accessors the compiler prefers for direct comparisons:
 * - `int(view)`: the Int value, NaN when missing (NaN compares false with everything);
 * - `bytes(view, out)`: points `out` at the bytes, false when missing;
 * - `ipFam(view)` (0 when missing, else 4 or 6), `ip4(view)` (uint32), `ip6(view, out)` (16 bytes).
 */
import type { Slice, Type, Value } from './values.js';

export interface Field<V> {
  readonly name: string;
  readonly type: Type;
  /** One line for docs, `--help` and field pickers. */
  readonly doc: string;
  get(view: V): Value | undefined;
  int?(view: V): number;
  bytes?(view: V, out: Slice): boolean;
  ipFam?(view: V): number;
  ip4?(view: V): number;
  ip6?(view: V, out: Slice): boolean;
}

export interface Scheme<V> {
  readonly name: string;
  readonly fields: ReadonlyMap<string, Field<V>>;
}

export function makeScheme<V>(name: string, fields: Field<V>[]): Scheme<V> {
  const m = new Map<string, Field<V>>();
  for (const f of fields) {
    if (m.has(f.name)) throw new Error(`scheme ${name}: duplicate field ${f.name}`);
    m.set(f.name, Object.freeze(f));
  }
  return Object.freeze({ name, fields: m });
}
