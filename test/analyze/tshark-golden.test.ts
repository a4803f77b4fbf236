/**
 * Golden test against tshark for every capture in ../shared/corpus/real: packet and byte
 * counts, protocol breakdown, per-second timeline and top sources must equal what tshark
 * reports for the same file. Differences that come from a deliberate decoding choice are
 * listed in EXPLAINED with the reason; anything else fails.
 */
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../../src/analyze/run.js';
import { corpusFiles, tsharkFields } from '../helpers/tshark.js';

type Proto = 'ipv4' | 'ipv6' | 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'gre' | 'fragments' | 'other';

/** file -> protocol -> [ours, tshark's, why they differ]. */
const EXPLAINED: Record<string, Partial<Record<Proto, [number, number, string]>>> = {};

function expected(file: string) {
  const rows = tsharkFields(file, [
    'frame.time_epoch',
    'frame.len',
    'frame.protocols',
    'ip.src',
    'ipv6.src',
    'ip.flags.mf',
    'ip.frag_offset',
    'ipv6.fraghdr.offset',
    'ipv6.fraghdr.more',
  ]);
  const protocols: Record<Proto, number> = { ipv4: 0, ipv6: 0, tcp: 0, udp: 0, icmp: 0, icmpv6: 0, gre: 0, fragments: 0, other: 0 };
  const timeline = new Map<number, { packets: number; bytes: number }>();
  const sources = new Map<string, number>();
  let bytes = 0;
  for (const r of rows) {
    const [epoch = '0', len = '0', protos = '', ipSrc = '', ip6Src = '', mf = '', fo = '', f6o = '', f6m = ''] = r;
    const sec = Math.floor(Number(epoch.split('.')[0]));
    const e = timeline.get(sec) ?? { packets: 0, bytes: 0 };
    e.packets++;
    e.bytes += Number(len);
    timeline.set(sec, e);
    bytes += Number(len);
    // Layers quoted inside an ICMP error are not layers of this packet: cut the stack there.
    const layers = protos.split(':');
    const cut = layers.findIndex((l) => l === 'icmp' || l === 'icmpv6');
    const own = cut >= 0 ? layers.slice(0, cut + 1) : layers;
    const has = (p: string) => own.includes(p);
    if (has('ip')) protocols.ipv4++;
    if (has('ipv6')) protocols.ipv6++;
    if (has('tcp')) protocols.tcp++;
    if (has('udp')) protocols.udp++;
    if (has('icmp')) protocols.icmp++;
    if (has('icmpv6')) protocols.icmpv6++;
    if (has('gre')) protocols.gre++;
    if (!has('ip') && !has('ipv6')) protocols.other++;
    const frag =
      mf.split(',').some((x) => x === '1' || x === 'True') ||
      fo.split(',').some((x) => Number(x) > 0) ||
      f6o.split(',').some((x) => Number(x) > 0) ||
      f6m.split(',').some((x) => x === '1' || x === 'True');
    if (frag) protocols.fragments++;
    // Top sources: the innermost address that is not inside an ICMP quote.
    const ownIps = own.filter((l) => l === 'ip' || l === 'ipv6');
    const v4 = ipSrc ? ipSrc.split(',') : [];
    const v6 = ip6Src ? ip6Src.split(',') : [];
    const last = ownIps[ownIps.length - 1];
    if (last) {
      const list = last === 'ip' ? v4 : v6;
      const idx = ownIps.filter((l) => l === last).length - 1;
      const addr = list[idx];
      if (addr) sources.set(addr, (sources.get(addr) ?? 0) + 1);
    }
  }
  return { packets: rows.length, bytes, protocols, timeline, sources };
}

for (const file of corpusFiles()) {
  test(`matches tshark: ${basename(file)}`, async () => {
    const ours = await analyzeCapture(file, { top: 20 });
    const exp = expected(file);
    assert.equal(ours.capture.packets, exp.packets, 'packet count');
    assert.equal(ours.capture.bytes, exp.bytes, 'byte count');
    const why = EXPLAINED[basename(file)] ?? {};
    for (const [k, n] of Object.entries(exp.protocols) as Array<[Proto, number]>) {
      const known = why[k];
      if (known) {
        assert.equal(ours.traffic.protocols[k], known[0], `${k}: ours (explained: ${known[2]})`);
        assert.equal(n, known[1], `${k}: tshark's (explained: ${known[2]})`);
      } else assert.equal(ours.traffic.protocols[k], n, `protocol ${k}`);
    }
    // Timeline: same seconds, same packets and bytes in each.
    const ourTl = new Map(ours.traffic.timeline.map((e) => [Math.floor(Date.parse(e.t) / 1000), e]));
    assert.equal(ourTl.size, exp.timeline.size, 'timeline seconds');
    for (const [sec, e] of exp.timeline) {
      const o = ourTl.get(sec);
      assert.ok(o, `timeline second ${sec} missing`);
      assert.equal(o.packets, e.packets, `packets at ${sec}`);
      assert.equal(o.bytes, e.bytes, `bytes at ${sec}`);
    }
    // Top sources: each of ours has tshark's count, and the largest are the same counts.
    const tsTop = [...exp.sources.values()].sort((a, b) => b - a).slice(0, ours.traffic.top_sources.length);
    assert.deepEqual(
      ours.traffic.top_sources.map((s) => s.packets),
      tsTop,
      'top source counts',
    );
    for (const s of ours.traffic.top_sources) assert.equal(exp.sources.get(s.ip), s.packets, `source ${s.ip}`);
  });
}
