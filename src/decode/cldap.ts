/**
 * CLDAP (connectionless LDAP over UDP 389; RFC 1798, and the LDAPv3 message form Active
 * Directory's "LDAP ping" uses). The amplification vector is a searchRequest for the rootDSE
 * answered by a large searchResEntry plus searchResDone.
 *
 * LDAPMessage ::= SEQUENCE { messageID INTEGER, [user LDAPDN (RFC 1798 only)], protocolOp
 * [APPLICATION n] ... }. We read just far enough to name the operation.
 *
 * The BER helpers here are shared with snmp.ts. They return positions and keep the decoded
 * length in a module variable, so reading a TLV allocates nothing.
 */
import { App, type PacketView } from './view.js';

/** Length of the TLV whose header berHeader() last read; -1 for the indefinite form. */
export let berLength = 0;

/**
 * Read the identifier and length octets of the TLV at `p` expecting `tag` (any tag when -1).
 * Returns the offset of the contents (length in berLength), or -1 when the bytes do not form
 * such a header. Only single-octet tags; lengths up to four octets (the long form 0x81-0x84).
 * The length is not checked against `end`: captured payloads are often cut short, and callers
 * read contents only as far as the bytes go.
 */
export function berHeader(b: Uint8Array, p: number, end: number, tag: number): number {
  if (p + 2 > end) return -1;
  const t = b[p] as number;
  if ((tag >= 0 && t !== tag) || (t & 0x1f) === 0x1f) return -1;
  const l0 = b[p + 1] as number;
  if (l0 < 0x80) {
    berLength = l0;
    return p + 2;
  }
  if (l0 === 0x80) {
    berLength = -1;
    return p + 2;
  }
  const n = l0 & 0x7f;
  if (n > 4 || p + 2 + n > end) return -1;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + (b[p + 2 + i] as number);
  berLength = len;
  return p + 2 + n;
}

/** Skip a whole primitive TLV with a definite length; -1 when it cannot be skipped. */
export function berSkip(b: Uint8Array, p: number, end: number, tag: number): number {
  const c = berHeader(b, p, end, tag);
  if (c < 0 || berLength < 0) return -1;
  return c + berLength;
}

export function decodeCldap(v: PacketView, off: number, end: number): boolean {
  v.appDirty = true; // its fields are written below: the next reset clears them
  const b = v.buf;
  let p = berHeader(b, off, end, 0x30);
  if (p < 0) return false;
  p = berSkip(b, p, end, 0x02); // messageID
  if (p < 0 || p >= end) return false;
  if (b[p] === 0x04) {
    // RFC 1798's `user` DN between the messageID and the operation.
    p = berSkip(b, p, end, 0x04);
    if (p < 0 || p >= end) return false;
  }
  const t = b[p] as number;
  // protocolOp: APPLICATION class (0x40), constructed (0x20) or not (delRequest, unbind).
  if ((t & 0xc0) !== 0x40 || (t & 0x1f) === 0x1f) return false;
  v.app = App.CLDAP;
  v.cldapOp = t & 0x1f;
  return true;
}
