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

/** Where a packet rule can be enforced: the exporters' targets (Cloudflare's is Magic Firewall). */
export type ExportTarget = 'nftables' | 'iptables' | 'flowspec' | 'cloudflare';

/** How detection's signature search may use a field (detect/l34/signature.ts). */
export interface SignatureCandidate {
  /** Search order: on equal gain the lower rank is taken, so rules read destination-first. */
  readonly rank: number;
  /** Natural domain: a range covering it is no constraint. */
  readonly min: number;
  readonly max: number;
  /** Printed in hex (flags). */
  readonly hex?: boolean;
  /** Only as one value or a small set, never a range (flags, protocol numbers, ICMP types). */
  readonly setOnly?: boolean;
}

/**
 * What other layers may do with a field. The catalogue is the one place that says it: the packet
 * rule IR (mitigation, exporters) takes the fields with `ir`, detection the ones with `signature`,
 * and a test checks every exporter accepts exactly the fields whose `targets` name it.
 */
export interface FieldCaps {
  /** The field's kind in the packet-rule IR (rules/packet-ir.ts); absent: not usable in mitigation rules. */
  readonly ir?: 'int' | 'ip' | 'bytes' | 'bool';
  /** Largest value of an Int field (turns `<`/`>` into ranges and complements when exporting). */
  readonly max?: number;
  /** Targets that can express a test on this field (perhaps only for IPv4, or with a companion field). */
  readonly targets?: readonly ExportTarget[];
  readonly signature?: SignatureCandidate;
}

export interface Field<V> {
  readonly name: string;
  readonly type: Type;
  /** One line for docs, `--help` and field pickers. */
  readonly doc: string;
  readonly caps?: FieldCaps;
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

/** The fields of a scheme that have a capability, in catalogue order. */
export function fieldsWith<V, K extends keyof FieldCaps>(scheme: Scheme<V>, cap: K): (Field<V> & { caps: FieldCaps & Required<Pick<FieldCaps, K>> })[] {
  return [...scheme.fields.values()].filter((f) => f.caps?.[cap] !== undefined) as (Field<V> & { caps: FieldCaps & Required<Pick<FieldCaps, K>> })[];
}

export function makeScheme<V>(name: string, fields: Field<V>[]): Scheme<V> {
  const m = new Map<string, Field<V>>();
  for (const f of fields) {
    if (m.has(f.name)) throw new Error(`scheme ${name}: duplicate field ${f.name}`);
    m.set(f.name, Object.freeze(f));
  }
  return Object.freeze({ name, fields: m });
}
