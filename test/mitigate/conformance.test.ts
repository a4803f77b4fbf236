/**
 * The mitigation engine's expression subset against the shared Rules-language conformance
 * vectors (../shared/conformance/rules/cases.jsonl): every packet-scheme case whose expression
 * stays within the subset (packet fields of spec §10.1 that a PacketView carries, no
 * functions, IP named lists) must evaluate, or fail with the error class, as the vector says.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAddr } from '../../src/core/net/prefix.js';
import { PROTO_NUMBERS } from '../../src/core/net/protocols.js';
import { PacketView } from '../../src/decode/view.js';
import { IpList, ListSet } from '../../src/mitigate/lists.js';
import { compilePacketRule, ExprError, PACKET_FIELDS, parseExpr } from '../../src/rules/packet-ir.js';

interface Case {
  id: string;
  scheme: string;
  expr: string;
  fields?: Record<string, unknown>;
  lists?: Record<string, { kind: string; items: unknown[] }>;
  expect?: boolean;
  error?: string;
  at?: number;
  tags?: string[];
}

const FILE = join(import.meta.dirname, '../../../shared/conformance/rules/cases.jsonl');
const cases = readFileSync(FILE, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Case);

/** Identifiers in the expression outside strings (field or function names). */
function identifiers(expr: string): string[] {
  const noStrings = expr.replace(/r(#*)"[\s\S]*?"\1|"(?:\\.|[^"\\])*"/g, '""');
  return [...noStrings.matchAll(/(?<![\w.$])([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)(\s*\()?/g)].map((m) => (m[2] ? `${m[1]}(` : (m[1] as string)));
}

const KEYWORDS = new Set(['and', 'or', 'xor', 'not', 'in', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'contains', 'matches', 'wildcard', 'strict', 'bitwise_and']);

function inSubset(c: Case): boolean {
  if (c.scheme !== 'packet') return false;
  for (const id of identifiers(c.expr)) {
    if (KEYWORDS.has(id)) continue;
    if (id.endsWith('(')) return false;
    if (!(id in PACKET_FIELDS)) return false;
  }
  // Raw strings, hex byte strings, escapes beyond \" and \\, and non-IP lists are outside the subset.
  if (/\br#*"|\\x|\\[0-7]|[0-9a-f]{2}:[0-9a-f]{2}:|contains|matches|wildcard|~|\bany\(|\ball\(|\[/.test(c.expr)) return false;
  if (c.lists && Object.values(c.lists).some((l) => l.kind !== 'ip')) return false;
  if (c.fields && Object.keys(c.fields).some((f) => !(f in PACKET_FIELDS) && !['ip.src.country', 'ip.dst.country', 'ip.src.asnum', 'ip.dst.asnum'].includes(f))) return false;
  return true;
}

function viewOf(fields: Record<string, unknown>): PacketView {
  const v = new PacketView();
  v.reset();
  v.buf = new Uint8Array(32);
  const src = typeof fields['ip.src'] === 'string' ? parseAddr(fields['ip.src'] as string) : null;
  const dst = typeof fields['ip.dst'] === 'string' ? parseAddr(fields['ip.dst'] as string) : null;
  const fam = src?.family ?? dst?.family ?? 0;
  v.ipVersion = fam;
  if (fam === 4) {
    const u = (a: Uint8Array | undefined) => (a ? (((a[0] as number) << 24) | ((a[1] as number) << 16) | ((a[2] as number) << 8) | (a[3] as number)) >>> 0 : 0);
    v.src4 = u(src?.addr);
    v.dst4 = u(dst?.addr);
  } else if (fam === 6) {
    if (src) v.buf.set(src.addr, 0);
    if (dst) v.buf.set(dst.addr, 16);
    v.src6Off = 0;
    v.dst6Off = 16;
  }
  const num = (k: string): number | undefined => (typeof fields[k] === 'number' ? (fields[k] as number) : undefined);
  if (typeof fields['ip.proto'] === 'string') v.ipProto = PROTO_NUMBERS[fields['ip.proto'] as string] ?? 255;
  v.ttl = num('ip.ttl') ?? 0;
  v.ipLen = num('ip.len') ?? 0;
  v.ipHdrLen = num('ip.hdr_len') ?? (fam === 4 ? 20 : 40);
  v.fragOffset = num('ip.frag_offset') ?? 0;
  v.ipFlags = (fields['ip.flags.df'] ? 2 : 0) | (fields['ip.flags.mf'] ? 1 : 0);
  const has = (p: string) => Object.keys(fields).some((k) => k.startsWith(p));
  if (has('tcp.')) {
    v.l4Proto = 6;
    v.l4Off = 0;
    v.srcPort = num('tcp.srcport') ?? 0;
    v.dstPort = num('tcp.dstport') ?? 0;
    v.tcpWindow = num('tcp.window') ?? 0;
    let flags = num('tcp.flags') ?? 0;
    const bits: Record<string, number> = { fin: 1, syn: 2, reset: 4, push: 8, ack: 16, urg: 32, ecn: 64, cwr: 128 };
    if (num('tcp.flags') === undefined) for (const [n, b] of Object.entries(bits)) if (fields[`tcp.flags.${n}`] === true) flags |= b;
    v.tcpFlags = flags;
  } else if (has('udp.')) {
    v.l4Proto = 17;
    v.l4Off = 0;
    v.srcPort = num('udp.srcport') ?? 0;
    v.dstPort = num('udp.dstport') ?? 0;
  } else if (has('icmp.')) {
    v.l4Proto = v.ipProto === 58 ? 58 : 1;
    v.l4Off = 0;
    v.icmpType = num('icmp.type') ?? 0;
    v.icmpCode = num('icmp.code') ?? 0;
  }
  return v;
}

describe('conformance (packet subset of the Rules language)', () => {
  const subset = cases.filter(inSubset);

  it('covers a meaningful share of the packet cases', () => {
    assert.ok(subset.length >= 90, `only ${subset.length} cases in the subset`);
  });

  it('evaluates and errs as the vectors say', () => {
    const failures: string[] = [];
    for (const c of subset) {
      const lists = new ListSet();
      for (const [name, l] of Object.entries(c.lists ?? {})) lists.add(new IpList({ name }).addText(l.items.map((i) => String(i).replace('..', '-')).join('\n')));
      let pred: ReturnType<typeof compilePacketRule>;
      try {
        parseExpr(c.expr, { has: (n) => lists.get(n) !== undefined });
        pred = compilePacketRule(c.expr, lists);
      } catch (e) {
        if (!(e instanceof ExprError)) throw e;
        if (c.error === undefined) failures.push(`${c.id}: refused (${e.cls} at ${e.start}: ${e.message}) but expected ${c.expect}`);
        else if (c.error !== e.cls && !(c.error === 'type' && e.cls === 'unsupported')) failures.push(`${c.id}: error ${e.cls}, expected ${c.error}`);
        else if (c.at !== undefined && c.at !== e.start) failures.push(`${c.id}: error at ${e.start}, expected ${c.at}`);
        continue;
      }
      if (c.error !== undefined) {
        failures.push(`${c.id}: accepted, expected a ${c.error} error`);
        continue;
      }
      const got = pred(viewOf(c.fields ?? {}));
      if (got !== c.expect) failures.push(`${c.id}: ${got}, expected ${c.expect}: ${c.expr}`);
    }
    assert.deepEqual(failures, []);
  });
});
