/**
 * Trusted proxies: the CIDRs whose X-Forwarded-For, Forwarded and request id the edge believes.
 * Addresses come from sockets as text; IPv4 clients of a dual-stack listener show up as
 * `::ffff:a.b.c.d` and are matched (and reported) as IPv4.
 */
import { isIPv4 } from 'node:net';
import { parseV4Bytes, parseV6Bytes } from '../core/net/prefix.js';
import { IpTrie } from '../core/net/trie.js';

/** `::ffff:1.2.3.4` → `1.2.3.4`; anything else unchanged. */
export function plainIp(ip: string): string {
  return ip.length > 7 && ip.charCodeAt(0) === 58 && ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

export class TrustedProxies {
  private readonly trie = new IpTrie<true>();
  readonly empty: boolean;

  /** Throws SyntaxError naming the first CIDR that does not parse. */
  constructor(cidrs: readonly string[]) {
    for (const c of cidrs) {
      try {
        this.trie.insertText(c.trim(), true);
      } catch {
        throw new SyntaxError(`not an address or CIDR prefix: ${c}`);
      }
    }
    this.empty = cidrs.length === 0;
    this.trie.compile();
  }

  /** Is `ip` (text, plain or IPv4-mapped) inside one of the prefixes? */
  has(ip: string): boolean {
    if (this.empty) return false;
    const p = plainIp(ip);
    const v4 = parseV4Bytes(p);
    if (v4 !== null) return this.trie.lookup4(((v4[0] as number) << 24) | ((v4[1] as number) << 16) | ((v4[2] as number) << 8) | (v4[3] as number)) >= 0;
    const v6 = parseV6Bytes(p);
    return v6 !== null && this.trie.lookup6(v6, 0) >= 0;
  }

  /**
   * The client behind a trusted peer: walk X-Forwarded-For from the right, skipping trusted hops;
   * the first untrusted (or the leftmost, when all are trusted) is the client. A hop that is not an
   * address ends the walk at the last good one, so a forged entry cannot hide behind garbage.
   */
  clientFrom(peer: string, xff: string | undefined): string {
    if (xff === undefined || !this.has(peer)) return peer;
    let client = peer;
    let end = xff.length;
    while (end > 0) {
      const comma = xff.lastIndexOf(',', end - 1);
      const hop = stripPort(xff.slice(comma + 1, end).trim());
      if (hop === '' || (parseV4Bytes(hop) === null && parseV6Bytes(hop) === null)) break;
      client = hop;
      if (!this.has(hop)) break;
      end = Math.max(comma, 0);
    }
    return plainIp(client);
  }
}

/** `[2001:db8::1]:443` → `2001:db8::1`; `1.2.3.4:80` → `1.2.3.4`; a bare address unchanged. */
function stripPort(h: string): string {
  if (h.startsWith('[')) {
    const e = h.indexOf(']');
    return e > 0 ? h.slice(1, e) : h;
  }
  const c = h.indexOf(':');
  return c > 0 && c === h.lastIndexOf(':') ? h.slice(0, c) : h;
}
