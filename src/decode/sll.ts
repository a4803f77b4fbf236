/** Linux "cooked" captures: SLL (DLT 113, 16-byte header) and SLL2 (DLT 276, 20-byte header). */
import { decodeEtherType } from './ethernet.js';
import { type PacketView, Status } from './view.js';

export function decodeLinuxSll(v: PacketView, off: number, end: number): void {
  if (end - off < 16) {
    v.status |= Status.TRUNCATED;
    return;
  }
  const b = v.buf;
  const proto = ((b[off + 14] as number) << 8) | (b[off + 15] as number);
  decodeCooked(v, proto, off + 16, end);
}

export function decodeLinuxSll2(v: PacketView, off: number, end: number): void {
  if (end - off < 20) {
    v.status |= Status.TRUNCATED;
    return;
  }
  const b = v.buf;
  const proto = ((b[off] as number) << 8) | (b[off + 1] as number);
  decodeCooked(v, proto, off + 20, end);
}

/** The protocol field is an ethertype, except for a few Linux-specific small values (raw 802.2 etc.). */
function decodeCooked(v: PacketView, proto: number, off: number, end: number): void {
  if (proto >= 0x0600) decodeEtherType(v, proto, off, end);
  else v.etherType = 0;
}
