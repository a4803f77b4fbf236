/**
 * 802.11 with a radiotap header (DLT 127): skip radiotap by its length, decode the 802.11 MAC
 * header of data frames, then LLC/SNAP to an ethertype. Management and control frames are valid
 * non-IP frames. Protected (encrypted) data frames cannot be read and count as non-IP.
 */
import { decodeEtherType } from './ethernet.js';
import { type PacketView, Status } from './view.js';

export function decodeRadiotap(v: PacketView, off: number, end: number): void {
  const b = v.buf;
  if (end - off < 8) {
    v.status |= Status.TRUNCATED;
    return;
  }
  const rlen = (b[off + 2] as number) | ((b[off + 3] as number) << 8);
  if (rlen < 8) {
    v.status |= Status.MALFORMED;
    return;
  }
  let p = off + rlen;
  if (end - p < 24) {
    v.status |= Status.TRUNCATED;
    return;
  }
  const fc0 = b[p] as number;
  const fc1 = b[p + 1] as number;
  const ftype = (fc0 >> 2) & 3;
  if (ftype !== 2) return; // not a data frame
  const subtype = fc0 >> 4;
  if (subtype & 0x4) return; // null-function data: no body
  if (fc1 & 0x40) return; // protected frame
  let hdr = 24;
  if ((fc1 & 3) === 3) hdr += 6; // four-address (WDS)
  if (subtype & 0x8) hdr += 2; // QoS control
  if (subtype & 0x8 && fc1 & 0x80) hdr += 4; // HT control (order bit on QoS data)
  p += hdr;
  if (end - p < 8) {
    v.status |= Status.TRUNCATED;
    return;
  }
  if (b[p] === 0xaa && b[p + 1] === 0xaa && b[p + 2] === 0x03) {
    const et = ((b[p + 6] as number) << 8) | (b[p + 7] as number);
    decodeEtherType(v, et, p + 8, end);
  }
}
