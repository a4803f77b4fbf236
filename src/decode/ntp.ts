/**
 * NTP (RFC 5905 modes 1-5, RFC 1305 appendix B mode 6 control, ntpd's private mode 7). Mode 7
 * is what monlist amplification uses: request code 42 (MON_GETLIST_1) or 20 (MON_GETLIST), a
 * short request answered by up to 100 packets of 440+ bytes each.
 *
 * First byte: LI(2) VN(3) Mode(3); for mode 7 the LI bits are R (response) and M (more).
 * Mode 7 header: byte 1 = auth bit + sequence, byte 2 = implementation, byte 3 = request code.
 */
import { App, type PacketView } from './view.js';

export function decodeNtp(v: PacketView, off: number, end: number): boolean {
  v.appDirty = true; // its fields are written below: the next reset clears them
  const len = end - off;
  if (len < 4) return false;
  const b0 = v.buf[off] as number;
  const version = (b0 >> 3) & 7;
  const mode = b0 & 7;
  if (version === 0 || version > 4 || mode === 0) return false;
  // The fixed parts: 48 bytes for modes 1-5, a 12-byte control header for mode 6, 8 for mode 7.
  if (mode <= 5 ? len < 48 : mode === 6 ? len < 12 : len < 8) return false;
  v.app = App.NTP;
  v.ntpVersion = version;
  v.ntpMode = mode;
  if (mode === 7) {
    v.ntpResponse = (b0 & 0x80) !== 0;
    v.ntpReqCode = v.buf[off + 3] as number;
  }
  return true;
}
