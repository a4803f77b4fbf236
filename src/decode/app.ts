/**
 * Application-layer dispatch, called by the TCP and UDP decoders with [off, end) the captured
 * transport payload. Well-known ports pick a decoder through one flat 65,536-entry table (as
 * gopacket's layers/ports.go does: one load, no hashing); TLS and HTTP are recognised by their
 * first bytes on any TCP port. A decoder that does not recognise the bytes leaves the view
 * alone, and the other port is tried: reflection traffic has the service on the source port,
 * requests on the destination port, and an ephemeral port may collide with a well-known one.
 *
 * L7 garbage is common (scanners, floods with random payloads) and is not a malformed frame:
 * nothing here touches v.status.
 */
import { decodeCldap } from './cldap.js';
import { decodeDns, decodeDnsTcp } from './dns.js';
import { decodeHttp } from './http.js';
import { decodeMemcached } from './memcached.js';
import { decodeNtp } from './ntp.js';
import { decodeQuic } from './quic.js';
import { decodeSnmp } from './snmp.js';
import { decodeSsdp } from './ssdp.js';
import { decodeTls } from './tls.js';
import { App, type PacketView } from './view.js';

const P_DNS = 1;
const P_NTP = 2;
const P_SSDP = 3;
const P_MEMCACHED = 4;
const P_CLDAP = 5;
const P_SNMP = 6;
const P_CHARGEN = 7;

/** Port → decoder for UDP. */
const UDP_PORTS = new Uint8Array(65536);
/** Port → decoder for TCP (TLS and HTTP are content-detected on every port first). */
const TCP_PORTS = new Uint8Array(65536);

UDP_PORTS[53] = P_DNS;
UDP_PORTS[5353] = P_DNS;
UDP_PORTS[5355] = P_DNS;
UDP_PORTS[123] = P_NTP;
UDP_PORTS[1900] = P_SSDP;
UDP_PORTS[11211] = P_MEMCACHED;
UDP_PORTS[389] = P_CLDAP;
UDP_PORTS[161] = P_SNMP;
UDP_PORTS[162] = P_SNMP;
UDP_PORTS[19] = P_CHARGEN;
TCP_PORTS[53] = P_DNS;
TCP_PORTS[19] = P_CHARGEN;

const TCP_SYN = 0x02;
const TCP_ACK = 0x10;

export function decodeApp(v: PacketView, proto: number, off: number, end: number): void {
  if (end <= off) return;
  // Before any decoder below writes an application field: the next reset clears them.
  v.appDirty = true;
  const sp = v.srcPort;
  const dp = v.dstPort;
  if (proto === 6) {
    if (!v.streamApps) return;
    // SYN payloads (hping floods, TFO) are not application data a server would parse: a port
    // guess there would turn a flood into fake DNS or HTTP (MANIFEST, ddosgrid.synflood).
    if ((v.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN) return;
    if (decodeTls(v, off, end) || decodeHttp(v, off, end)) return;
    const ks = TCP_PORTS[sp] as number;
    if (ks !== 0 && byPort(v, ks, true, true, off, end)) return;
    const kd = TCP_PORTS[dp] as number;
    if (kd !== 0 && kd !== ks) byPort(v, kd, true, false, off, end);
    return;
  }
  if (proto !== 17) return;
  const ks = UDP_PORTS[sp] as number;
  if (ks !== 0 && byPort(v, ks, false, true, off, end)) return;
  const kd = UDP_PORTS[dp] as number;
  if (kd !== 0 && kd !== ks && byPort(v, kd, false, false, off, end)) return;
  // QUIC runs on 443 and on any other port: recognised by its long header, not by the port.
  if (v.app === App.NONE && v.streamApps && ((v.buf[off] as number) & 0xc0) === 0xc0) decodeQuic(v, off, end);
}

function byPort(v: PacketView, kind: number, tcp: boolean, fromSrc: boolean, off: number, end: number): boolean {
  switch (kind) {
    case P_DNS:
      return tcp ? decodeDnsTcp(v, off, end) : decodeDns(v, off, end);
    case P_NTP:
      return decodeNtp(v, off, end);
    case P_SSDP:
      return decodeSsdp(v, off, end);
    case P_MEMCACHED:
      return decodeMemcached(v, off, end);
    case P_CLDAP:
      return decodeCldap(v, off, end);
    case P_SNMP:
      return decodeSnmp(v, off, end);
    case P_CHARGEN:
      // RFC 864: the server sends lines of characters from port 19 whatever it was sent.
      if (!fromSrc) return false;
      v.app = App.CHARGEN;
      return true;
    default:
      return false;
  }
}
