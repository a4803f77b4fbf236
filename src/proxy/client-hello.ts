/**
 * JA3 and JA4 of a TLS connection, from the raw ClientHello read off the socket before the TLS
 * layer starts (node's TLS does not show the hello it parsed). The hello's bytes are collected
 * until its handshake message is whole (it may span several records), fingerprinted with the
 * packet decoder's own code (decode/tls.ts, ja3.ts, ja4.ts: the same values `palisade analyze`
 * gives for a capture of the handshake), and handed on unchanged.
 *
 * Bounded: at most MAX_HELLO bytes and the header timeout are spent waiting; what is not a TLS
 * handshake (or is cut, or too large) goes on to the TLS layer untouched, without fingerprints,
 * and the TLS layer refuses it as it would have anyway.
 */
import type { Socket } from 'node:net';
import { ja3 } from '../decode/ja3.js';
import { ja4 } from '../decode/ja4.js';
import { parseClientHello } from '../decode/tls.js';
import { PacketView } from '../decode/view.js';

/** Largest ClientHello waited for (post-quantum key shares make hellos of 1.5–2 KB; 16 KB is a record's limit). */
export const MAX_HELLO = 16 * 1024;

export interface HelloPrints {
  ja3: string;
  ja4: string;
}

/**
 * How the first bytes of a connection stand: 'need' more, 'done' (the handshake message is whole:
 * its bytes reassembled from the records), or 'other' (not a TLS handshake, or over the bound).
 */
export function helloState(buf: Uint8Array): { status: 'need' } | { status: 'other' } | { status: 'done'; hello: Uint8Array } {
  if (buf.length === 0) return { status: 'need' };
  if (buf[0] !== 0x16) return { status: 'other' };
  // The handshake message's bytes, record after record.
  const parts: Uint8Array[] = [];
  let have = 0;
  let want = -1;
  let p = 0;
  while (p + 5 <= buf.length) {
    if (buf[p] !== 0x16 || buf[p + 1] !== 0x03) return { status: 'other' };
    const len = ((buf[p + 3] as number) << 8) | (buf[p + 4] as number);
    if (len === 0 || len > MAX_HELLO + 2048) return { status: 'other' };
    if (p + 5 + len > buf.length) break;
    parts.push(buf.subarray(p + 5, p + 5 + len));
    have += len;
    if (want < 0 && have >= 4) {
      const first = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
      if (first[0] !== 0x01) return { status: 'other' };
      want = 4 + (((first[1] as number) << 16) | ((first[2] as number) << 8) | (first[3] as number));
      if (want > MAX_HELLO) return { status: 'other' };
    }
    if (want >= 0 && have >= want) return { status: 'done', hello: (parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts)).subarray(0, want) };
    p += 5 + len;
  }
  return buf.length > MAX_HELLO + 5 * 8 ? { status: 'other' } : { status: 'need' };
}

/** JA3 and JA4 of a whole ClientHello handshake message (its type byte first). */
export function helloPrints(hello: Uint8Array): HelloPrints {
  const v = new PacketView();
  parseClientHello(v, hello, 0, hello.length);
  return { ja3: ja3(v), ja4: ja4(v) };
}

/**
 * Read the ClientHello off `s` (nothing else reads it yet), then call `done` with its prints
 * (null when it was no hello) and every byte read, for the caller to hand to the TLS layer;
 * `timedOut` when the hello did not come whole within `timeoutMs` (a slow client: the caller
 * closes it, as it closes one that is slow to send its request head).
 */
export function readClientHello(s: Socket, timeoutMs: number, done: (prints: HelloPrints | null, read: Buffer, timedOut: boolean) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  let over = false;
  const finish = (prints: HelloPrints | null, timedOut = false): void => {
    if (over) return;
    over = true;
    clearTimeout(timer);
    s.off('data', onData);
    s.off('end', onEnd);
    s.pause();
    done(prints, buf, timedOut);
  };
  const timer = setTimeout(() => finish(null, true), timeoutMs);
  timer.unref();
  const onEnd = (): void => finish(null);
  const onData = (d: Buffer): void => {
    buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
    const st = helloState(buf);
    if (st.status === 'need') return;
    let prints: HelloPrints | null = null;
    if (st.status === 'done') {
      try {
        prints = helloPrints(st.hello);
      } catch {
        // A hello the decoder cannot read: no prints, the TLS layer judges it.
        prints = null;
      }
    }
    finish(prints);
  };
  s.on('data', onData);
  s.once('end', onEnd);
  s.once('close', () => clearTimeout(timer));
}
