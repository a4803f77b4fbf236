/**
 * SSDP (UPnP Device Architecture 1.1, section 1): HTTP-over-UDP on port 1900. The amplification
 * vector is an M-SEARCH (`ST: ssdp:all`) answered by many `HTTP/1.1 200 OK` responses; NOTIFY is
 * the multicast announcement. We classify the start line and note whether an ST header is present.
 */
import { App, type PacketView } from './view.js';

/** Start lines, as bytes: compared in place so nothing is decoded into a string. */
const M_SEARCH = bytes('M-SEARCH ');
const NOTIFY = bytes('NOTIFY ');
const HTTP_11 = bytes('HTTP/1.');

function bytes(s: string): Uint8Array {
  const a = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
  return a;
}

function startsWith(b: Uint8Array, off: number, end: number, lit: Uint8Array): boolean {
  if (end - off < lit.length) return false;
  for (let i = 0; i < lit.length; i++) if (b[off + i] !== lit[i]) return false;
  return true;
}

export function decodeSsdp(v: PacketView, off: number, end: number): boolean {
  v.appDirty = true; // its fields are written below: the next reset clears them
  const b = v.buf;
  let kind = 0;
  if (startsWith(b, off, end, M_SEARCH)) kind = 1;
  else if (startsWith(b, off, end, NOTIFY)) kind = 2;
  else if (startsWith(b, off, end, HTTP_11) && end - off >= 12) {
    // "HTTP/1.x 200": the status must be 2xx for a search response.
    if (b[off + 8] !== 0x20 || b[off + 9] !== 0x32) return false;
    kind = 3;
  } else return false;
  v.app = App.SSDP;
  v.ssdpKind = kind;
  // Header names start right after a line feed; `ST` then optional blanks then ':'.
  for (let p = off; p + 3 < end; p++) {
    if (b[p] !== 0x0a) continue;
    if (((b[p + 1] as number) | 0x20) !== 0x73 || ((b[p + 2] as number) | 0x20) !== 0x74) continue;
    let q = p + 3;
    while (q < end && (b[q] === 0x20 || b[q] === 0x09)) q++;
    if (q < end && b[q] === 0x3a) {
      v.ssdpHasSt = true;
      break;
    }
  }
  return true;
}
