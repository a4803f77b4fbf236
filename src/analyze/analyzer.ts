/**
 * Traffic summary over decoded packets: protocol breakdown, timeline, peaks, top talkers,
 * ports, conversations, DNS names, TLS SNI and JA4.
 *
 * Memory is fixed whatever the capture holds: per-port tables are exact (65,536 slots), address
 * and name tables are Misra–Gries frequent-item tables, distinct counts are HyperLogLog, and the
 * timeline widens its bins rather than grow past MAX_BINS. `estimated` lists what is approximate.
 */

import { linkTypeName } from '../core/linktypes.js';
import { formatIpv4, formatIpv6 } from '../core/net/ip.js';
import { isoTime } from '../core/time.js';
import { ja4 } from '../decode/ja4.js';
import { QUIC_BUDGET_PER_SECOND, quicStats } from '../decode/quic.js';
import { type PacketView, Tunnel } from '../decode/view.js';
import { FrequentItems } from '../detect/core/sketch/frequent.js';
import { hash2, hashBytes, mix32 } from '../detect/core/sketch/hash.js';
import { HyperLogLog } from '../detect/core/sketch/hll.js';
import type { Analysis, Conversation, NameCount, TopAddress, TopPort } from '../model/analysis.js';
import type { CaptureInfo } from '../sources/capture/capture.js';

const MAX_BINS = 100_000;
const TOP = 10;

export interface AnalyzerOptions {
  /** How many entries each top list reports (default 10). */
  top?: number;
}

export class Analyzer {
  private readonly topN: number;
  // protocol counters
  private ipv4 = 0;
  private ipv6 = 0;
  private tcp = 0;
  private udp = 0;
  private icmp = 0;
  private icmpv6 = 0;
  private gre = 0;
  private fragments = 0;
  private other = 0;
  // time
  private firstSec = -1;
  private firstNsec = 0;
  private lastSec = -1;
  private lastNsec = 0;
  private binWidth = 1;
  private bins = new Map<number, number>();
  private binPackets: number[] = [];
  private binBytes: number[] = [];
  private curBin = Number.NaN;
  private curIdx = -1;
  private cur100 = -1;
  private cur100Count = 0;
  private peak100 = 0;
  // tables
  private readonly src4 = new FrequentItems(65536, 0);
  private readonly dst4 = new FrequentItems(65536, 0);
  private readonly src6 = new FrequentItems(16384, 16);
  private readonly dst6 = new FrequentItems(16384, 16);
  private readonly conv = new FrequentItems(65536, 33);
  private readonly dns = new FrequentItems(4096, 255);
  private readonly sni = new FrequentItems(1024, 255);
  private readonly ja4s = new Map<string, number>();
  private ja4Dropped = 0;
  private readonly tcpPorts = new Float64Array(65536);
  private readonly udpPorts = new Float64Array(65536);
  private readonly srcHll = new HyperLogLog(14);
  private readonly dstHll = new HyperLogLog(14);
  private readonly convId = new Uint8Array(33);
  /** The QUIC decoder's counters (per process) when this analysis started: result() reports the difference. */
  private readonly quic0 = { ...quicStats };

  constructor(opts: AnalyzerOptions = {}) {
    this.topN = opts.top ?? TOP;
  }

  add(v: PacketView): void {
    // A view made from a flow or a sampled header stands for `weight` packets (1 for a captured one).
    const w = v.weight;
    const bytes = w === 1 ? v.wirelen : v.wirelen * w;
    this.clock(v.tsSec, v.tsNsec, bytes, w);
    const ver = v.ipVersion;
    if (ver === 0) {
      this.other += w;
      return;
    }
    if (ver === 4 || v.outerIpVersion === 4) this.ipv4 += w;
    if (ver === 6 || v.outerIpVersion === 6) this.ipv6 += w;
    if (v.tunnel & Tunnel.GRE) this.gre += w;
    // UDP-borne tunnels: the outer UDP header is a layer of this frame too (as tshark counts it).
    const udpTunnel = (v.tunnel & (Tunnel.VXLAN | Tunnel.TEREDO)) !== 0;
    if (udpTunnel && v.l4Proto !== 17) this.udp += w;
    if (v.isFragment) this.fragments += w;
    const proto = v.l4Proto;
    if (proto === 6) {
      this.tcp += w;
      if (v.l4Off >= 0) this.tcpPorts[v.dstPort] += w;
    } else if (proto === 17) {
      this.udp += w;
      if (v.l4Off >= 0) this.udpPorts[v.dstPort] += w;
    } else if (proto === 1) this.icmp += w;
    else if (proto === 58) this.icmpv6 += w;
    else if (proto === 47 && (v.tunnel & Tunnel.GRE) === 0) this.gre += w;
    const b = v.buf;
    if (ver === 4) {
      const s = v.src4;
      const d = v.dst4;
      if (s !== 0 || v.ipHdrLen > 0) {
        this.src4.add(s | 0, bytes, w);
        this.srcHll.add(mix32(s | 0));
      }
      if (v.ipHdrLen > 0) {
        this.dst4.add(d | 0, bytes, w);
        this.dstHll.add(mix32(d ^ 0x5bd1e995));
        // As int32 (same bits; hash2 and writeU32 read them so): an address of 128.0.0.0 and up
        // is no small integer as a uint32, and passing one to a call boxes it on the heap, per packet.
        const lo = (s < d ? s : d) | 0;
        const hi = (s < d ? d : s) | 0;
        const slot = this.conv.add(hash2(lo, hi), bytes, w);
        if (slot >= 0) {
          const id = this.convId;
          id[0] = 4;
          writeU32(id, 1, lo);
          writeU32(id, 5, hi);
          this.conv.setId(slot, id, 0, 9);
        }
      }
    } else if (ver === 6 && v.src6Off >= 0) {
      const so = v.src6Off;
      const dof = v.dst6Off;
      const hs = hashBytes(b, so, 16);
      const hd = hashBytes(b, dof, 16);
      let slot = this.src6.add(hs, bytes, w);
      if (slot >= 0) this.src6.setId(slot, b, so, 16);
      slot = this.dst6.add(hd, bytes, w);
      if (slot >= 0) this.dst6.setId(slot, b, dof, 16);
      this.srcHll.add(hs);
      this.dstHll.add(hd ^ 0x2545f491);
      const sFirst = compare16(b, so, dof) <= 0;
      slot = this.conv.add(sFirst ? hash2(hs, hd) : hash2(hd, hs), bytes, w);
      if (slot >= 0) {
        const id = this.convId;
        id[0] = 6;
        id.set(b.subarray(sFirst ? so : dof, (sFirst ? so : dof) + 16), 1);
        id.set(b.subarray(sFirst ? dof : so, (sFirst ? dof : so) + 16), 17);
        this.conv.setId(slot, id, 0, 33);
      }
    }
    if (v.dnsNameLen > 0) {
      const slot = this.dns.add(hashBytes(v.dnsName, 0, v.dnsNameLen), bytes, w);
      if (slot >= 0) this.dns.setId(slot, v.dnsName, 0, v.dnsNameLen);
    }
    if (v.tlsHelloOff >= 0) this.addClientHello(v, bytes);
  }

  /** ClientHellos are rare next to packets: strings and hashes are fine here. */
  private addClientHello(v: PacketView, bytes: number): void {
    if (v.tlsSniOff >= 0 && v.tlsSniLen > 0) {
      // tlsBuf, not buf: a QUIC hello is decrypted into the view's scratch.
      const slot = this.sni.add(hashBytes(v.tlsBuf, v.tlsSniOff, v.tlsSniLen), bytes);
      if (slot >= 0) this.sni.setId(slot, v.tlsBuf, v.tlsSniOff, v.tlsSniLen);
    }
    const fp = ja4(v);
    if (fp) {
      const n = this.ja4s.get(fp);
      if (n !== undefined) this.ja4s.set(fp, n + 1);
      else if (this.ja4s.size < 10_000) this.ja4s.set(fp, 1);
      else this.ja4Dropped++;
    }
  }

  private clock(sec: number, nsec: number, bytes: number, w: number): void {
    if (this.firstSec < 0 || sec < this.firstSec || (sec === this.firstSec && nsec < this.firstNsec)) {
      this.firstSec = sec;
      this.firstNsec = nsec;
    }
    if (sec > this.lastSec || (sec === this.lastSec && nsec > this.lastNsec)) {
      this.lastSec = sec;
      this.lastNsec = nsec;
    }
    const bin = this.binWidth === 1 ? sec : Math.floor(sec / this.binWidth) * this.binWidth;
    if (bin !== this.curBin) {
      let idx = this.bins.get(bin);
      if (idx === undefined) {
        if (this.bins.size >= MAX_BINS) {
          this.widen();
          this.clock(sec, nsec, bytes, w);
          return;
        }
        idx = this.binPackets.length;
        this.bins.set(bin, idx);
        this.binPackets.push(0);
        this.binBytes.push(0);
      }
      this.curBin = bin;
      this.curIdx = idx;
    }
    this.binPackets[this.curIdx] += w;
    this.binBytes[this.curIdx] += bytes;
    const b100 = sec * 10 + Math.floor(nsec / 100_000_000);
    if (b100 === this.cur100) this.cur100Count += w;
    else {
      if (this.cur100Count > this.peak100) this.peak100 = this.cur100Count;
      this.cur100 = b100;
      this.cur100Count = w;
    }
  }

  /** Too many distinct bins (a capture spanning days, or hostile timestamps): double the width. */
  private widen(): void {
    const w = this.binWidth * 2;
    const bins = new Map<number, number>();
    const pk: number[] = [];
    const by: number[] = [];
    for (const [t, i] of this.bins) {
      const nb = Math.floor(t / w) * w;
      let j = bins.get(nb);
      if (j === undefined) {
        j = pk.length;
        bins.set(nb, j);
        pk.push(0);
        by.push(0);
      }
      pk[j] = (pk[j] as number) + (this.binPackets[i] as number);
      by[j] = (by[j] as number) + (this.binBytes[i] as number);
    }
    this.binWidth = w;
    this.bins = bins;
    this.binPackets = pk;
    this.binBytes = by;
    this.curBin = Number.NaN;
  }

  result(info: CaptureInfo): Analysis {
    const n = this.topN;
    const timeline = [...this.bins.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([t, i]) => ({ t: isoTime(t), packets: this.binPackets[i] as number, bytes: this.binBytes[i] as number }));
    let peakPps = 0;
    let peakBps = 0;
    for (const e of timeline) {
      if (e.packets / this.binWidth > peakPps) peakPps = e.packets / this.binWidth;
      if ((e.bytes * 8) / this.binWidth > peakBps) peakBps = (e.bytes * 8) / this.binWidth;
    }
    const peak100 = Math.max(this.peak100, this.cur100Count) * 10;
    const estimated: string[] = ['unique_sources', 'unique_destinations'];
    if (!this.src4.exact || !this.src6.exact) estimated.push('top_sources');
    if (!this.dst4.exact || !this.dst6.exact) estimated.push('top_destinations');
    if (!this.conv.exact) estimated.push('top_conversations');
    if (!this.dns.exact) estimated.push('top_dns_names');
    if (!this.sni.exact) estimated.push('top_tls_sni');
    if (this.ja4Dropped > 0) estimated.push('top_ja4');
    if (this.binWidth > 1) estimated.push('timeline');
    const durNs = this.firstSec < 0 ? 0 : (this.lastSec - this.firstSec) * 1e9 + (this.lastNsec - this.firstNsec);
    return {
      capture: {
        file: info.file,
        format: info.format,
        compressed: info.compressed,
        link_types: info.linkTypes.map(linkTypeName),
        packets: info.packets,
        bytes: info.bytes,
        start: this.firstSec < 0 ? null : isoTime(this.firstSec, this.firstNsec),
        end: this.lastSec < 0 ? null : isoTime(this.lastSec, this.lastNsec),
        duration_s: Math.round(durNs / 1e3) / 1e6,
        skipped: info.skipped,
        quic: {
          initials: quicStats.initials - this.quic0.initials,
          opened: quicStats.opened - this.quic0.opened,
          repeats: quicStats.repeats - this.quic0.repeats,
          over_budget: quicStats.overBudget - this.quic0.overBudget,
          unreadable: quicStats.unreadable - this.quic0.unreadable,
          budget_per_s: QUIC_BUDGET_PER_SECOND,
        },
        anomalies: info.anomalies,
        error: info.error,
      },
      traffic: {
        protocols: {
          ipv4: this.ipv4,
          ipv6: this.ipv6,
          tcp: this.tcp,
          udp: this.udp,
          icmp: this.icmp,
          icmpv6: this.icmpv6,
          gre: this.gre,
          fragments: this.fragments,
          other: this.other,
        },
        timeline_bin_s: this.binWidth,
        timeline,
        peak: { pps_1s: Math.round(peakPps), bps_1s: Math.round(peakBps), pps_100ms: peak100 },
        unique_sources: this.srcHll.estimate(),
        unique_destinations: this.dstHll.estimate(),
        top_sources: topAddresses(this.src4, this.src6, n),
        top_destinations: topAddresses(this.dst4, this.dst6, n),
        top_dst_ports: this.topPorts(n),
        top_conversations: topConversations(this.conv, n),
        top_dns_names: topNames(this.dns, n),
        top_tls_sni: topNames(this.sni, n),
        top_ja4: [...this.ja4s.entries()]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, n)
          .map(([name, packets]) => ({ name, packets })),
        estimated,
      },
      attacks: [],
    };
  }

  private topPorts(n: number): TopPort[] {
    const all: TopPort[] = [];
    for (let p = 0; p < 65536; p++) {
      const t = this.tcpPorts[p] as number;
      if (t > 0) all.push({ protocol: 'tcp', port: p, packets: t });
      const u = this.udpPorts[p] as number;
      if (u > 0) all.push({ protocol: 'udp', port: p, packets: u });
    }
    all.sort((a, b) => b.packets - a.packets || a.port - b.port);
    return all.slice(0, n);
  }
}

function topAddresses(v4: FrequentItems, v6: FrequentItems, n: number): TopAddress[] {
  const out: TopAddress[] = [];
  for (const e of v4.top(n)) out.push({ ip: formatIpv4(e.key >>> 0), packets: e.count, bytes: e.bytes });
  for (const e of v6.top(n)) out.push({ ip: formatIpv6(e.id as Uint8Array), packets: e.count, bytes: e.bytes });
  out.sort((a, b) => b.packets - a.packets || b.bytes - a.bytes);
  return out.slice(0, n);
}

function topConversations(t: FrequentItems, n: number): Conversation[] {
  return t.top(n).map((e) => {
    const id = e.id as Uint8Array;
    if (id[0] === 4) {
      return { a: formatIpv4(readU32(id, 1)), b: formatIpv4(readU32(id, 5)), packets: e.count, bytes: e.bytes };
    }
    return { a: formatIpv6(id, 1), b: formatIpv6(id, 17), packets: e.count, bytes: e.bytes };
  });
}

function topNames(t: FrequentItems, n: number): NameCount[] {
  return t.top(n).map((e) => ({ name: Buffer.from(e.id as Uint8Array).toString('latin1'), packets: e.count }));
}

function writeU32(b: Uint8Array, o: number, u: number): void {
  b[o] = u >>> 24;
  b[o + 1] = (u >>> 16) & 255;
  b[o + 2] = (u >>> 8) & 255;
  b[o + 3] = u & 255;
}

function readU32(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

function compare16(b: Uint8Array, x: number, y: number): number {
  for (let i = 0; i < 16; i++) {
    const d = (b[x + i] as number) - (b[y + i] as number);
    if (d !== 0) return d;
  }
  return 0;
}
