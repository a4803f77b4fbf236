/**
 * SNMP (RFC 3416 PDUs; v1 RFC 1157, v2c RFC 1901, v3 RFC 3412) on UDP 161/162. The reflection
 * vector is a GetBulk (or GetNext) with a guessed community answered by a large Response.
 *
 * Message ::= SEQUENCE { version INTEGER, community OCTET STRING, data PDU } for v1/v2c; v3 has
 * msgGlobalData, msgSecurityParameters and a ScopedPDU (readable unless encrypted).
 * snmpPdu is the context tag number: 0 get, 1 getnext, 2 response, 3 set, 4 trap (v1),
 * 5 getbulk, 6 inform, 7 trapV2, 8 report.
 */
import { berHeader, berLength, berSkip } from './cldap.js';
import { App, type PacketView } from './view.js';

export function decodeSnmp(v: PacketView, off: number, end: number): boolean {
  v.appDirty = true; // its fields are written below: the next reset clears them
  const b = v.buf;
  let p = berHeader(b, off, end, 0x30);
  if (p < 0) return false;
  const ver = berHeader(b, p, end, 0x02);
  if (ver < 0 || berLength !== 1 || ver >= end) return false;
  const version = b[ver] as number;
  if (version !== 0 && version !== 1 && version !== 3) return false;
  p = ver + 1;
  v.app = App.SNMP;
  v.snmpVersion = version;
  if (version === 3) {
    p = berSkip(b, p, end, 0x30); // msgGlobalData
    if (p >= 0) p = berSkip(b, p, end, 0x04); // msgSecurityParameters
    if (p < 0 || p >= end || b[p] !== 0x30) return true; // encrypted (OCTET STRING) or cut
    p = berHeader(b, p, end, 0x30); // ScopedPDU
    if (p >= 0) p = berSkip(b, p, end, 0x04); // contextEngineID
    if (p >= 0) p = berSkip(b, p, end, 0x04); // contextName
  } else {
    const c = berHeader(b, p, end, 0x04);
    if (c < 0 || berLength < 0) return true;
    v.snmpCommunityOff = c;
    v.snmpCommunityLen = c + berLength <= end ? berLength : end - c;
    p = c + berLength;
  }
  if (p < 0 || p >= end) return true;
  const t = b[p] as number;
  if (t >= 0xa0 && t <= 0xa8) v.snmpPdu = t & 0x1f;
  return true;
}

/** The community string (v1/v2c), '' when absent. */
export function snmpCommunity(v: PacketView): string {
  if (v.snmpCommunityOff < 0) return '';
  return Buffer.from(v.buf.buffer, v.buf.byteOffset + v.snmpCommunityOff, v.snmpCommunityLen).toString('latin1');
}
