/**
 * JA3 (Salesforce, 2017): "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats"
 * in decimal, values dash-joined in wire order, GREASE (RFC 8701) left out of the cipher,
 * extension and group lists; the fingerprint is the MD5 of that string. Computed on demand from
 * the ClientHello the decoder located (allocates; runs once per hello).
 */
import { createHash } from 'node:crypto';
import { clientHelloFields, isGrease } from './tls.js';
import type { PacketView } from './view.js';

function join(list: number[], dropGrease: boolean): string {
  let s = '';
  for (const x of list) {
    if (dropGrease && isGrease(x)) continue;
    s += s.length > 0 ? `-${x}` : `${x}`;
  }
  return s;
}

/** The JA3 input string, '' when the view holds no ClientHello. */
export function ja3String(v: PacketView): string {
  const f = clientHelloFields(v);
  if (f === null) return '';
  return `${f.version},${join(f.ciphers, true)},${join(f.extensions, true)},${join(f.groups, true)},${join(f.pointFormats, false)}`;
}

/** JA3 fingerprint (32 lowercase hex digits), '' when the view holds no ClientHello. */
export function ja3(v: PacketView): string {
  const s = ja3String(v);
  return s === '' ? '' : createHash('md5').update(s).digest('hex');
}
