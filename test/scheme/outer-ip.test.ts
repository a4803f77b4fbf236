/**
 * The outer.ip.* fields (scheme/packet.ts) describe the outermost IP header of a frame, the one a
 * firewall tests: checked frame by frame against tshark's FIRST IP layer (`-E occurrence=f`) on the
 * corpus's tunnelled captures (GRE, GRE in GRE, VXLAN, 4in6, Teredo, a GRE frame inside a DNS
 * flood) and on plain IPv4/IPv6 captures, where outer.ip.* must equal ip.*. Synthetic frames cover
 * what the corpus lacks: an IPv6 outer header (with an extension header) carrying GRE, 6in4, 4in4,
 * a cut inner header, and a frame with no IP at all.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatIpv4, formatIpv6 } from '../../src/core/net/ip.js';
import type { PacketView } from '../../src/decode/view.js';
import { compile } from '../../src/rules/compile.js';
import { packetScheme } from '../../src/scheme/packet.js';
import { IpValue } from '../../src/scheme/values.js';
import { captureSource } from '../../src/sources/capture/source.js';
import { cut, decodeBytes, EtherType, ethernet, gre, hopByHop, IpProto, ipv4, ipv6, tcp, udp } from '../helpers/frames.js';
import { CORPUS, tsharkFields, tsharkOnFrames } from '../helpers/tshark.js';

const OUTER = ['outer.ip.src', 'outer.ip.dst', 'outer.ip.version', 'outer.ip.proto', 'outer.ip.proto.num', 'outer.ip.ttl', 'outer.ip.len'] as const;
const INNER = ['ip.src', 'ip.dst', 'ip.version', 'ip.proto', 'ip.proto.num', 'ip.ttl', 'ip.len'] as const;

/** A field's value as tshark prints it ('' when missing). */
function text(v: PacketView, name: string): string {
  const x = packetScheme.fields.get(name)?.get(v);
  if (x === undefined) return '';
  if (x instanceof IpValue) return x.fam === 4 ? formatIpv4(x.v4) : formatIpv6(x.v6 as Uint8Array, 0);
  if (x instanceof Uint8Array) return Buffer.from(x).toString('latin1');
  return String(x);
}

function outerOf(v: PacketView): Record<string, string> {
  return Object.fromEntries(OUTER.map((n) => [n, text(v, n)]));
}

const V4 = ['ip.src', 'ip.dst', 'ip.ttl', 'ip.proto', 'ip.len'];
const V6 = ['ipv6.src', 'ipv6.dst', 'ipv6.hlim', 'ipv6.nxt', 'ipv6.plen'];
const EXT6 = new Set([0, 43, 44, 51, 60, 135]);

/** What outer.ip.* should be, from tshark's first IP layer (v4 or v6, whichever comes first). */
function expected(row: Map<string, string>): Record<string, string> | null {
  const layers = (row.get('frame.protocols') ?? '').split(':');
  const i4 = layers.indexOf('ip');
  const i6 = layers.indexOf('ipv6');
  if (i4 < 0 && i6 < 0) return Object.fromEntries(OUTER.map((n) => [n, '']));
  const v6 = i6 >= 0 && (i4 < 0 || i6 < i4);
  const [src, dst, ttl, proto, len] = (v6 ? V6 : V4).map((f) => row.get(f) ?? '');
  // ipv6.nxt is the first next header; outer.ip.proto.num is the final one (as ip.proto.num).
  if (v6 && EXT6.has(Number(proto))) return null;
  return {
    'outer.ip.src': src as string,
    'outer.ip.dst': dst as string,
    'outer.ip.version': v6 ? '6' : '4',
    'outer.ip.proto': packetProtoName(Number(proto)),
    'outer.ip.proto.num': proto as string,
    'outer.ip.ttl': ttl as string,
    'outer.ip.len': v6 ? String(Number(len) + 40) : (len as string),
  };
}

/** ip.proto's name for a number (the scheme's table, read through a plain frame). */
function packetProtoName(n: number): string {
  const v = decodeBytes({ data: ethernet(EtherType.IPV4, ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: n }, [])) });
  return text(v, 'ip.proto');
}

async function views(file: string): Promise<{ outer: Record<string, string>; inner: Record<string, string>; tunnel: boolean }[]> {
  const out: { outer: Record<string, string>; inner: Record<string, string>; tunnel: boolean }[] = [];
  await captureSource(file).read((v) => {
    out.push({ outer: outerOf(v), inner: Object.fromEntries(INNER.map((n, i) => [OUTER[i], text(v, n)])), tunnel: packetScheme.fields.get('tunnel')?.get(v) === true });
  });
  return out;
}

/** tshark sees a tunnel where a second IP header comes before any ICMP layer (an ICMP error quotes one). */
function tsharkTunnel(row: Map<string, string>): boolean {
  const layers = (row.get('frame.protocols') ?? '').split(':');
  const icmp = layers.findIndex((l) => l === 'icmp' || l === 'icmpv6');
  return layers.slice(0, icmp < 0 ? layers.length : icmp).filter((l) => l === 'ip' || l === 'ipv6').length >= 2;
}

/** Capture → frames decoded through a tunnel (tshark's count, Teredo dissected on its port). */
const FILES: [string, number][] = [
  ['edge/tunnels_gre-sample.pcap', 40],
  ['edge/tunnels_gre-within-gre.pcap', 628],
  ['edge/tunnels_vxlan.pcap', 8],
  ['edge/tunnels_4in6.pcap', 1],
  ['edge/tunnels_Teredo.pcap', 4],
  ['ddos/amp.dns.RRSIG.fragmented.pcap', 1],
  ['edge/ipv6-fragmented-dns.pcap', 0],
  ['edge/dns53.pcap', 0],
];

describe('outer.ip.* against tshark on real captures', () => {
  for (const [name, want] of FILES) {
    it(`${name}: outer.ip.* is tshark's first IP header; equal to ip.* unless tunnelled`, async () => {
      const file = join(CORPUS, name);
      const fields = ['frame.protocols', ...V4, ...V6];
      const rows = tsharkFields(file, fields, ['-d', 'udp.port==3544,teredo'], 'f').map((r) => new Map(fields.map((f, i) => [f, r[i] ?? ''])));
      const ours = await views(file);
      assert.equal(ours.length, rows.length, 'one view per tshark row');
      const wrong: string[] = [];
      let compared = 0;
      let tunnelled = 0;
      ours.forEach((o, i) => {
        const row = rows[i] as Map<string, string>;
        const e = expected(row);
        if (o.tunnel !== tsharkTunnel(row)) wrong.push(`frame ${i + 1}: tunnel ${o.tunnel}, tshark's layers ${row.get('frame.protocols')}`);
        if (o.tunnel) tunnelled++;
        else if (JSON.stringify(o.outer) !== JSON.stringify(o.inner))
          wrong.push(`frame ${i + 1}: no tunnel, yet outer ${JSON.stringify(o.outer)} != inner ${JSON.stringify(o.inner)}`);
        if (e === null) return;
        compared++;
        if (JSON.stringify(o.outer) !== JSON.stringify(e)) wrong.push(`frame ${i + 1}: ours ${JSON.stringify(o.outer)}, tshark ${JSON.stringify(e)}`);
      });
      assert.deepEqual(wrong.slice(0, 5), []);
      assert.ok(compared > 0);
      assert.equal(tunnelled, want, 'frames decoded through a tunnel');
    });
  }
});

// ---- synthetic frames ------------------------------------------------------------------------

const inner4 = ipv4({ src: '10.1.0.1', dst: '10.1.0.2', proto: IpProto.TCP, ttl: 61 }, tcp({ sport: 40000, dport: 443, flags: 0x02 }));
const inner6 = ipv6({ src: 'fd00::1', dst: 'fd00::2', next: IpProto.UDP, hopLimit: 7 }, udp({ sport: 1, dport: 2 }, [1, 2, 3]));
const FRAMES = {
  gre4: ethernet(EtherType.IPV4, ipv4({ src: '203.0.113.1', dst: '203.0.113.2', proto: IpProto.GRE, ttl: 250 }, gre({ proto: EtherType.IPV4 }, inner4))),
  gre6ext: ethernet(
    EtherType.IPV6,
    ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: 0, hopLimit: 3 }, hopByHop(IpProto.GRE, [1, 4, 0, 0, 0, 0], gre({ proto: EtherType.IPV4, key: 9 }, inner4))),
  ),
  sixIn4: ethernet(EtherType.IPV4, ipv4({ src: '198.51.100.1', dst: '198.51.100.2', proto: 41, ttl: 9 }, inner6)),
  fourIn4: ethernet(EtherType.IPV4, ipv4({ src: '198.51.100.3', dst: '198.51.100.4', proto: 4, ttl: 10 }, inner4)),
  plain: ethernet(EtherType.IPV4, inner4),
  arp: ethernet(0x0806, new Uint8Array(28)),
};

describe('outer.ip.* on synthetic frames', () => {
  const order = Object.keys(FRAMES) as (keyof typeof FRAMES)[];
  const fields = ['frame.protocols', ...V4, ...V6];
  const rows = tsharkOnFrames(
    order.map((k) => ({ data: FRAMES[k] })),
    fields,
    1,
    ['-E', 'occurrence=f'],
  );

  for (const [i, k] of order.entries()) {
    it(`${k}: tshark's first IP header`, () => {
      const v = decodeBytes({ data: FRAMES[k] });
      const e = expected(rows[i] as Map<string, string>);
      if (k === 'gre6ext') {
        // tshark's ipv6.nxt is the hop-by-hop header; the final next header is GRE's.
        assert.equal(e, null);
        assert.deepEqual(outerOf(v), {
          'outer.ip.src': '2001:db8::1',
          'outer.ip.dst': '2001:db8::2',
          'outer.ip.version': '6',
          'outer.ip.proto': 'gre',
          'outer.ip.proto.num': '47',
          'outer.ip.ttl': '3',
          'outer.ip.len': String(FRAMES.gre6ext.length - 14),
        });
        assert.equal(rows[i]?.get('ipv6.src'), '2001:db8::1');
      } else assert.deepEqual(outerOf(v), e);
    });
  }

  it('the inner packet stays in ip.*; tunnel and its kinds say what was decoded through', () => {
    const v = decodeBytes({ data: FRAMES.sixIn4 });
    assert.equal(text(v, 'ip.src'), 'fd00::1');
    assert.equal(text(v, 'ip.ttl'), '7');
    assert.equal(text(v, 'outer.ip.proto'), 'ipv6');
    const kinds = (f: Uint8Array) =>
      ['tunnel', 'tunnel.gre', 'tunnel.ipip', 'tunnel.vxlan', 'tunnel.teredo'].filter((n) => packetScheme.fields.get(n)?.get(decodeBytes({ data: f })) === true);
    assert.deepEqual(kinds(FRAMES.sixIn4), ['tunnel', 'tunnel.ipip']);
    assert.deepEqual(kinds(FRAMES.gre6ext), ['tunnel', 'tunnel.gre']);
    assert.deepEqual(kinds(FRAMES.plain), []);
    assert.deepEqual(kinds(FRAMES.arp), []);
  });

  it('an inner header cut short: ip.* missing, outer.ip.* still there', () => {
    const f = cut(FRAMES.gre4, 14 + 20 + 4 + 10);
    const v = decodeBytes(f);
    assert.equal(text(v, 'ip.dst'), '');
    assert.equal(text(v, 'outer.ip.dst'), '203.0.113.2');
    assert.equal(text(v, 'outer.ip.ttl'), '250');
    assert.equal(text(v, 'outer.ip.len'), String(20 + 4 + inner4.length));
    assert.equal(packetScheme.fields.get('tunnel')?.get(v), true);
  });

  it('compiled rules read the outer header: comparisons, prefix sets, ranges, IP lists', () => {
    const lists = { victims: { kind: 'ip' as const, items: ['203.0.113.0/30', '2001:db8::/64'] } };
    const t = (expr: string, f: Uint8Array) => compile(expr, packetScheme, { lists })(decodeBytes({ data: f }));
    assert.equal(t('outer.ip.dst == 203.0.113.2 and outer.ip.proto == "gre" and ip.dst == 10.1.0.2', FRAMES.gre4), true);
    assert.equal(t('ip.dst == 203.0.113.2', FRAMES.gre4), false);
    assert.equal(t('outer.ip.dst in {203.0.113.0/24 2001:db8::/32} and outer.ip.ttl > 200 and outer.ip.proto.num == 47', FRAMES.gre4), true);
    assert.equal(t('outer.ip.dst in $victims and outer.ip.version == 6 and outer.ip.ttl == 3', FRAMES.gre6ext), true);
    assert.equal(t('outer.ip.src in $victims', FRAMES.sixIn4), false);
    assert.equal(t('outer.ip.src != 198.51.100.1', FRAMES.sixIn4), false);
    assert.equal(t('outer.ip.len in {40..100} and outer.ip.proto in {"ipv6" "ipip"}', FRAMES.sixIn4), true);
    // Without a tunnel the outer header is the IP header.
    assert.equal(t('outer.ip.dst == 10.1.0.2 and outer.ip.ttl == 61 and outer.ip.proto == "tcp" and not tunnel', FRAMES.plain), true);
    // No IP header: every outer field is missing (ne is false too).
    assert.equal(t('outer.ip.dst != 10.1.0.2 or outer.ip.ttl != 1 or outer.ip.version != 4 or outer.ip.proto != "tcp"', FRAMES.arp), false);
  });
});
