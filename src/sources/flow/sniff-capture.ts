/**
 * Is a capture packets to analyse, or flow export to analyse as the flows it carries? `palisade
 * analyze` asks before reading (unless --as says): a collector's capture is nearly all UDP
 * datagrams of NetFlow, IPFIX or sFlow, which no packet analysis makes sense of.
 */
import { readCapture } from '../capture/capture.js';
import { sniffFlow } from './datagram.js';
import { FlowKind } from './record-view.js';

/** Packets looked at: enough to see past a few unrelated packets at the start. */
const LOOK = 200;

class Enough extends Error {}

/**
 * True when most of the first packets of the file are flow export: at least 3 such datagrams,
 * at least 90 % of the UDP datagrams with a payload and at least half of all packets. By content,
 * not by port, so exporters on any port are found (the decoders check each datagram again).
 */
export async function isFlowExport(path: string): Promise<boolean> {
  if (path === '-') return false;
  let seen = 0;
  let udp = 0;
  let flows = 0;
  try {
    await readCapture(
      path,
      (v) => {
        seen++;
        if (v.l4Proto === 17 && v.payloadOff >= 0 && v.payloadLen > 0) {
          udp++;
          if (sniffFlow(v.buf, v.payloadOff, v.payloadOff + v.payloadLen) !== FlowKind.NONE) flows++;
        }
        if (seen >= LOOK) throw new Enough();
      },
      { streamApps: false },
    );
  } catch (e) {
    if (!(e instanceof Enough)) return false; // the real read reports what is wrong with the file
  }
  return flows >= 3 && flows >= 0.9 * udp && flows * 2 >= seen;
}
