/** Flow records made by hand for the rule engine and what-if tests. */
import { FlowKind, FlowView } from '../../src/sources/flow/record-view.js';

/** Dotted IPv4 text as a uint32. */
export function v4(text: string): number {
  return text.split('.').reduce((a, x) => a * 256 + Number(x), 0);
}

/** A UDP IPFIX record from port 53 to 4444 of `packets` packets of 1,000 bytes, 1:`rate` sampled. */
export function flowRecord(src: string, dst: string, packets: number, startMs: number, endMs: number, rate = 1): FlowView {
  const v = new FlowView();
  v.kind = FlowKind.IPFIX;
  v.ipVersion = 4;
  v.src4 = v4(src);
  v.dst4 = v4(dst);
  v.proto = 17;
  v.srcPort = 53;
  v.dstPort = 4444;
  v.packets = packets;
  v.bytes = packets * 1000;
  v.startMs = startMs;
  v.endMs = endMs;
  v.samplingRate = rate;
  return v;
}
