/**
 * L7 detection over a packet capture: the HTTP/1.x requests followed through its TCP connections
 * (sources/capture/http-requests.ts) go through the access-log detector (detect/l7) as log
 * records would, so an HTTP flood or a slowloris seen on the wire is reported next to the L3/L4
 * attacks, with the server's address as the victim.
 *
 * Two passes as for a log: detection while the capture is read, then each attack's signature
 * measured over the requests again. A capture that can be read again is (only when something was
 * detected, through a prefilter that decodes TCP to HTTP ports only); from stdin the requests of
 * the first pass are kept (a bounded sample beyond KEEP: the figures are then estimates).
 */
import { buildAll, plan } from '../detect/l7/attacks.js';
import { L7Detector, type L7Options } from '../detect/l7/detector.js';
import { Measurer } from '../detect/l7/measure.js';
import { Rand } from '../detect/l7/sample.js';
import type { Attack } from '../model/attack.js';
import { HttpLogView, Slot } from '../sources/accesslog/view.js';
import type { RequestHead } from '../sources/capture/http-head.js';
import { fillView, type HttpExtractOptions, type HttpExtractStats, HttpRequestExtractor } from '../sources/capture/http-requests.js';
import type { PacketSource } from '../sources/capture/source.js';
import { measureTargets, withFirewallText } from './analyze-log.js';

/** Requests kept for the measuring pass of a capture read once. */
export const KEEP = 200_000;
/** Sites whose server addresses are tallied (the victim address of an attack on the site). */
const MAX_SITES = 1024;

export interface CaptureL7Options {
  http?: HttpExtractOptions;
  detection?: L7Options;
}

export class CaptureL7 {
  /** Made at the first request: a capture without HTTP pays nothing for it. */
  private det: L7Detector | null = null;
  private readonly extractor: HttpRequestExtractor;
  private readonly kept: RequestHead[] = [];
  private seen = 0;
  private readonly rand = new Rand(11);
  /** Per site (lowercased Host): requests per server IPv4 address. */
  private readonly servers = new Map<string, Map<number, number>>();

  constructor(
    private readonly keepAll: boolean,
    private readonly opts: CaptureL7Options = {},
  ) {
    this.extractor = new HttpRequestExtractor((v, h) => this.request(v, h), opts.http);
  }

  get stats(): HttpExtractStats {
    return this.extractor.stats;
  }

  /** One packet of the first pass. */
  add(v: Parameters<HttpRequestExtractor['add']>[0]): void {
    this.extractor.add(v);
  }

  get detector(): L7Detector {
    if (this.det === null) this.det = new L7Detector(this.opts.detection);
    return this.det;
  }

  private request(v: HttpLogView, h: RequestHead): void {
    this.detector.add(v);
    const host = (v.get(Slot.HOST) ?? '').toLowerCase();
    let m = this.servers.get(host);
    if (m === undefined && this.servers.size < MAX_SITES) {
      m = new Map();
      this.servers.set(host, m);
    }
    if (m !== undefined && h.server4 >= 0) m.set(h.server4, (m.get(h.server4) ?? 0) + 1);
    if (!this.keepAll) return;
    // Algorithm R: the measuring pass of a capture read once runs on this sample.
    const n = this.seen++;
    if (n < KEEP) this.kept.push(h);
    else {
      const j = Math.floor(this.rand.next() * (n + 1));
      if (j < KEEP) this.kept[j] = h;
    }
  }

  /**
   * The capture ended at `endMs`: the attacks, measured by a second read of `replay` (or over the
   * kept requests when it is null).
   */
  async finish(endMs: number, replay: PacketSource | null): Promise<Attack[]> {
    this.extractor.finish(endMs);
    if (this.det === null) return [];
    const det = this.det;
    const planned = plan(det, det.finish());
    if (planned.length === 0) return [];
    const m = new Measurer(measureTargets(planned), this.opts.detection?.isLogin ?? null);
    if (replay !== null) {
      const again = new HttpRequestExtractor((v) => m.add(v), this.opts.http);
      await replay.read((v) => again.add(v), { prefilter: tcpPrefilter });
      again.finish(endMs);
    } else {
      const view = new HttpLogView();
      for (const h of this.kept) {
        fillView(view, h);
        m.add(view);
      }
    }
    return buildAll(det, planned, m.tallies).map((a) => this.onServer(withFirewallText(a)));
  }

  /** The site's busiest server address and port 80-ish service as the victim's ip (a capture knows it; a log does not). */
  private onServer(a: Attack): Attack {
    const m = this.servers.get((a.victim.host ?? '').toLowerCase());
    if (m === undefined) return a;
    let best = -1;
    let n = 0;
    for (const [ip, c] of m) if (c > n) [best, n] = [ip, c];
    if (best < 0) return a;
    const ip = `${best >>> 24}.${(best >>> 16) & 255}.${(best >>> 8) & 255}.${best & 255}`;
    return { ...a, victim: { ...a.victim, ip } };
  }
}

/**
 * The second pass decodes only what may be TCP: an untagged Ethernet frame of IPv4 or IPv6 is
 * looked at (its protocol byte); anything else (tags, tunnels, other links) is decoded to be sure.
 */
function tcpPrefilter(buf: Uint8Array, off: number, caplen: number, linkType: number): boolean {
  if (linkType !== 1 || caplen < 34) return true;
  const et = ((buf[off + 12] as number) << 8) | (buf[off + 13] as number);
  if (et === 0x0800) {
    const proto = buf[off + 23] as number;
    if (proto === 17) {
      // VXLAN and Teredo carry packets the first pass decoded through.
      const u = off + 14 + ((buf[off + 14] as number) & 15) * 4;
      const dport = u + 4 <= off + caplen ? ((buf[u + 2] as number) << 8) | (buf[u + 3] as number) : 0;
      return dport === 4789 || dport === 3544;
    }
    return proto === 6 || proto === 4 || proto === 41 || proto === 47;
  }
  if (et === 0x86dd && caplen >= 54) {
    const next = buf[off + 20] as number;
    // Extension headers or tunnels: decode.
    return next === 6 || (next !== 17 && next !== 58 && next !== 1);
  }
  return et !== 0x0806;
}
