/**
 * Flow export as it arrives, as weighted packets for the live L3/4 detector (`palisade monitor
 * --sflow/--netflow/--ipfix`). A file's records are put back on their own times (flow-packets.ts);
 * live, a record arrives when its flow ended or hit the exporter's active timeout — its start is
 * already behind the detector's closed windows. So a record counts from its arrival: its packets
 * are spread over the seconds after it came, as many as the flow lasted (at most SPREAD_S), which
 * keeps a steady flow's rate right once the first records are in, and every packet counted. An
 * sFlow sample is its packet at its arrival. Detection therefore lags the exporter's timeouts, as
 * every flow-based detector does (FastNetMon, Akvorado): exporters meant for DDoS detection use
 * active timeouts of a few seconds.
 *
 * The views wait in per-second buckets (a ring of BUCKETS seconds, arrays reused) until the clock
 * passes their second; `drain` hands them over in second order.
 */
import { PacketView } from '../decode/view.js';
import type { FlowView } from './flow/record-view.js';
import { addFlow, fill, ViewStore } from './flow-packets.js';

/** Seconds a live record's packets are spread over at most. */
export const SPREAD_S = 10;
const BUCKETS = 16;

export class LiveFlowViews {
  private readonly buckets: ViewStore[] = [];
  /** The second each bucket holds (-1: empty). */
  private readonly bucketSec = new Float64Array(BUCKETS).fill(-1);
  /** The next second to hand over (NaN before the first record). */
  private next = Number.NaN;
  private readonly view = new PacketView();
  private readonly one = new ViewStore();
  /** Records and samples taken in, packets they stand for, and views dropped for being behind the clock. */
  records = 0;
  packets = 0;
  late = 0;

  constructor() {
    for (let i = 0; i < BUCKETS; i++) this.buckets.push(new ViewStore());
  }

  /** A record or sample that arrived at `nowMs`. */
  add(f: FlowView, nowMs: number): void {
    this.records++;
    const sec0 = Math.floor(nowMs / 1000);
    if (Number.isNaN(this.next)) this.next = sec0;
    const spanMs = Math.min(SPREAD_S * 1000 - 1, Math.max(0, f.endMs - f.startMs));
    // Spread into a scratch store first, then each view into the bucket of its second.
    const one = this.one;
    one.clear();
    const at = Math.max(nowMs, this.next * 1000);
    this.packets += addFlow(one, f, at, spanMs);
    for (let i = 0; i < one.n; i++) {
      const sec = one.sec[i] as number;
      if (sec < this.next) {
        this.late++;
        continue;
      }
      const b = sec % BUCKETS;
      const st = this.buckets[b] as ViewStore;
      if (this.bucketSec[b] !== sec) {
        st.clear();
        this.bucketSec[b] = sec;
      }
      copyView(one, i, st);
    }
  }

  /** Hands over the views of every second before `untilSec`, in order. */
  drain(untilSec: number, onView: (v: PacketView) => void): void {
    if (Number.isNaN(this.next)) return;
    // past the ring's span every bucket has been handed over (untilSec may be +Infinity: the end)
    const stop = Math.min(untilSec, this.next + BUCKETS);
    for (; this.next < stop; this.next++) {
      const b = this.next % BUCKETS;
      if (this.bucketSec[b] !== this.next) continue;
      const st = this.buckets[b] as ViewStore;
      for (let i = 0; i < st.n; i++) {
        fill(this.view, st, i);
        if (this.view.ipVersion !== 0) onView(this.view);
      }
      st.clear();
      this.bucketSec[b] = -1;
    }
    if (untilSec > stop && Number.isFinite(untilSec)) this.next = untilSec;
  }
}

/** Copies stored view i of `from` into `to` (its header or addresses into `to`'s arenas). */
function copyView(from: ViewStore, i: number, to: ViewStore): void {
  const j = to.push();
  to.sec[j] = from.sec[i] as number;
  to.nsec[j] = from.nsec[i] as number;
  to.weight[j] = from.weight[i] as number;
  to.samples[j] = from.samples[i] as number;
  to.flowPackets[j] = from.flowPackets[i] as number;
  to.fam[j] = from.fam[i] as number;
  to.src4[j] = from.src4[i] as number;
  to.dst4[j] = from.dst4[i] as number;
  to.proto[j] = from.proto[i] as number;
  to.sport[j] = from.sport[i] as number;
  to.dport[j] = from.dport[i] as number;
  to.flags[j] = from.flags[i] as number;
  to.ipLen[j] = from.ipLen[i] as number;
  to.icmp[j] = from.icmp[i] as number;
  to.wirelen[j] = from.wirelen[i] as number;
  to.hdrLink[j] = from.hdrLink[i] as number;
  to.hdrLen[j] = from.hdrLen[i] as number;
  const a = from.addrOff[i] as number;
  to.addrOff[j] = a < 0 ? -1 : to.addAddrs(from.addr, a, a + 16);
  const h = from.hdrOff[i] as number;
  to.hdrOff[j] = h < 0 ? -1 : to.addHeader(from.hdr, h, from.hdrLen[i] as number);
}
