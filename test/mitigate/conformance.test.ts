/**
 * The mitigation engine's rule IR against the shared Rules-language conformance vectors
 * (../shared/conformance/rules/cases.jsonl): EVERY packet-scheme case either evaluates as the
 * vector says, fails with the vector's error class at its position, or is refused as
 * `unsupported` at a construct the IR leaves out on purpose (a field no firewall can test, a
 * function, a string operator) — never in place of an error the vector expects.
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

const OPERATOR_WORDS = /^(contains|matches|wildcard|strict|~)/;

/**
 * Why a refusal as `unsupported` is legitimate: the span names what the IR leaves out on purpose
 * (spec §10.1 fields a firewall cannot test, functions, string operators, indexes, quantifiers),
 * never something the IR claims to hold.
 */
function outsideIr(c: Case, e: ExprError): string | null {
  const text = Array.from(c.expr).slice(e.start, e.end).join('').trim();
  const name = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text)?.[0];
  if (
    name !== undefined &&
    c.expr
      .slice(c.expr.indexOf(name) + name.length)
      .trimStart()
      .startsWith('(')
  )
    return null; // a function call
  if (OPERATOR_WORDS.test(text) || text.startsWith('[') || text.startsWith('any(') || text.startsWith('all(')) return null;
  if (name !== undefined && !(name in PACKET_FIELDS) && !OPERATOR_WORDS.test(name)) return null; // a field outside the IR
  if (/ cannot be used in mitigation rules/.test(e.message) && !/the field /.test(e.message)) return null; // a construct, named in the message
  return `refused "${text}" (${e.message})`;
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

describe('conformance (the mitigation rule IR on every packet case of the Rules language)', () => {
  const packetCases = cases.filter((c) => c.scheme === 'packet');

  it('every packet case: the same error class and position, the same value, or a refusal of what the IR leaves out', () => {
    const failures: string[] = [];
    let evaluated = 0;
    let erred = 0;
    let outside = 0;
    for (const c of packetCases) {
      const lists = new ListSet();
      const ipLists = Object.entries(c.lists ?? {}).filter(([, l]) => l.kind === 'ip');
      for (const [name, l] of ipLists) lists.add(new IpList({ name }).addText(l.items.map((i) => String(i).replace('..', '-')).join('\n')));
      let pred: ReturnType<typeof compilePacketRule>;
      try {
        // Named lists in rulesets hold IP addresses: a list of another kind is unknown to the IR.
        parseExpr(c.expr, { has: (n) => lists.get(n) !== undefined });
        pred = compilePacketRule(c.expr, lists);
      } catch (e) {
        if (!(e instanceof ExprError)) throw e;
        if (e.cls === 'unsupported') {
          const why = outsideIr(c, e);
          if (why !== null) failures.push(`${c.id}: ${why}`);
          else if (c.error !== undefined && c.error !== 'unknown_list') failures.push(`${c.id}: unsupported, but the vector expects a ${c.error} error at ${c.at}`);
          else outside++;
          continue;
        }
        if (c.error === undefined) {
          // A list of another kind (bytes, int) is outside rulesets' IP lists: unknown to the IR.
          if (e.cls === 'unknown_list' && Object.values(c.lists ?? {}).some((l) => l.kind !== 'ip')) outside++;
          else failures.push(`${c.id}: refused (${e.cls} at ${e.start}: ${e.message}) but expected ${c.expect}`);
        } else if (c.error !== e.cls) failures.push(`${c.id}: error ${e.cls}, expected ${c.error}`);
        else if (c.at !== undefined && c.at !== e.start) failures.push(`${c.id}: error at ${e.start}, expected ${c.at}`);
        else erred++;
        continue;
      }
      if (c.error !== undefined) {
        failures.push(`${c.id}: accepted, expected a ${c.error} error`);
        continue;
      }
      const got = pred(viewOf(c.fields ?? {}));
      if (got !== c.expect) failures.push(`${c.id}: ${got}, expected ${c.expect}: ${c.expr}`);
      else evaluated++;
    }
    assert.deepEqual(failures, []);
    assert.equal(evaluated + erred + outside, packetCases.length);
    if (process.env.PALISADE_VERBOSE) console.log(`${evaluated} evaluated, ${erred} errors matched, ${outside} outside the IR`);
    // Most packet cases are firewall-expressible: the IR must evaluate them, not refuse them.
    assert.ok(evaluated >= 90, `only ${evaluated} cases evaluated (${erred} errors, ${outside} outside the IR)`);
    assert.ok(erred >= 30, `only ${erred} error cases matched`);
  });
});
