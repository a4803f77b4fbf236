/**
 * memcached over UDP (protocol.txt, "UDP protocol"): an 8-byte frame header (request id,
 * sequence number, datagram count, reserved = 0) then the ASCII protocol. The amplification
 * vector is a tiny `stats` or `get` request answered by `STAT ...` lines or a large `VALUE`.
 *
 * memcachedKind: 1 request, 2 VALUE response, 3 STAT response, 4 other response (END, STORED,
 * VERSION, errors, meta responses, and the continuation datagrams of a multi-datagram reply).
 */
import { App, type PacketView } from './view.js';

/** Request commands of the text and meta protocols, each as bytes (matched whole-token). */
const COMMANDS: Uint8Array[] = [
  'get',
  'gets',
  'gat',
  'gats',
  'set',
  'add',
  'replace',
  'append',
  'prepend',
  'cas',
  'delete',
  'incr',
  'decr',
  'touch',
  'stats',
  'version',
  'verbosity',
  'flush_all',
  'quit',
  'mg',
  'ms',
  'md',
  'ma',
  'mn',
  'me',
  'lru_crawler',
  'slabs',
  'watch',
  'shutdown',
  'cache_memlimit',
  'misbehave',
].map((s) => {
  const a = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
  return a;
});

function isUpper(c: number): boolean {
  return c >= 0x41 && c <= 0x5a;
}

function isLower(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}

export function decodeMemcached(v: PacketView, off: number, end: number): boolean {
  v.appDirty = true; // its fields are written below: the next reset clears them
  if (end - off < 9) return false;
  const b = v.buf;
  if (b[off + 6] !== 0 || b[off + 7] !== 0) return false;
  const seq = ((b[off + 2] as number) << 8) | (b[off + 3] as number);
  const total = ((b[off + 4] as number) << 8) | (b[off + 5] as number);
  const p = off + 8;
  // The first token: letters and '_' up to a blank, CR or LF (or the end of the datagram).
  let q = p;
  while (q < end && (isUpper(b[q] as number) || isLower(b[q] as number) || b[q] === 0x5f)) q++;
  const tokLen = q - p;
  const delimOk = q === end || b[q] === 0x20 || b[q] === 0x0d || b[q] === 0x0a;
  let kind = 0;
  if (tokLen > 0 && delimOk) {
    const c0 = b[p] as number;
    if (isLower(c0)) {
      for (let c = 0; c < COMMANDS.length; c++) {
        const cmd = COMMANDS[c] as Uint8Array;
        if (cmd.length !== tokLen) continue;
        let same = true;
        for (let i = 0; i < tokLen; i++) {
          if (b[p + i] !== cmd[i]) {
            same = false;
            break;
          }
        }
        if (same) {
          kind = 1;
          break;
        }
      }
    } else if (isUpper(c0)) {
      kind = 4;
      for (let i = 0; i < tokLen; i++) {
        if (isLower(b[p + i] as number)) {
          kind = 0;
          break;
        }
      }
      if (kind === 4 && tokLen === 5 && c0 === 0x56 && b[p + 1] === 0x41 && b[p + 2] === 0x4c && b[p + 3] === 0x55 && b[p + 4] === 0x45) kind = 2;
      else if (kind === 4 && tokLen === 4 && c0 === 0x53 && b[p + 1] === 0x54 && b[p + 2] === 0x41 && b[p + 3] === 0x54) kind = 3;
    }
  }
  // Later datagrams of a multi-datagram reply start mid-value: any bytes, but a sane header.
  if (kind === 0 && total > 1 && seq > 0 && seq < total) kind = 4;
  if (kind === 0) return false;
  v.app = App.MEMCACHED;
  v.memcachedKind = kind;
  return true;
}
