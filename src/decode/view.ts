/**
 * PacketView: the one reused object every decoder fills (see DESIGN.md, "PacketView").
 *
 * Why a class with fixed numeric fields: V8 keeps one hidden class for it, so field access in the
 * hot loop is a plain load. Nothing here is a string; addresses are uint32 (IPv4) or offsets into
 * `buf` (IPv6), and application fields are offsets/lengths into `buf` (or into a scratch buffer
 * owned by the view when the wire form must be rewritten, e.g. DNS labels).
 *
 * All offsets are ABSOLUTE indexes into `buf` (the reader's chunk buffer), so the reader never
 * allocates a subarray per packet. `frameOff` is where the frame starts and `frameEnd` is where
 * its captured bytes stop (frameOff + caplen).
 *
 * Encapsulation: GRE, IP-in-IP (4in4, 6in4, 4in6, 6in6), VXLAN and Teredo are decoded through.
 * The ip / l4 / app fields describe the INNERMOST packet (the customer's traffic, which is what
 * detection and rules are about); the outermost addresses are kept in `outer*` and `tunnel`.
 */

export const enum Link {
  NULL = 0,
  ETHERNET = 1,
  RAW = 101,
  LOOP = 108,
  LINUX_SLL = 113,
  IEEE802_11_RADIOTAP = 127,
  NFLOG = 239,
  IPV4 = 228,
  IPV6 = 229,
  LINUX_SLL2 = 276,
}

/** Decode status flags (bit set in `status`). */
export const enum Status {
  OK = 0,
  /** caplen < orig_len, or a header ran past the captured bytes. */
  TRUNCATED = 1,
  /** A header is self-inconsistent (bad IHL, bad version, length fields that lie). */
  MALFORMED = 2,
  /** Link type or ethertype we do not decode (counted, not an error). */
  UNSUPPORTED = 4,
}

/** What the application decoders recognised in the transport payload. */
export const enum App {
  NONE = 0,
  DNS = 1,
  NTP = 2,
  SSDP = 3,
  MEMCACHED = 4,
  CLDAP = 5,
  TLS_CLIENT_HELLO = 6,
  HTTP_REQUEST = 7,
  HTTP_RESPONSE = 8,
  CHARGEN = 9,
  SNMP = 10,
}

/** Tunnel kinds seen on the way in (bit set in `tunnel`). */
export const enum Tunnel {
  NONE = 0,
  GRE = 1,
  IPIP = 2,
  VXLAN = 4,
  TEREDO = 8,
}

/** IPv6 extension headers seen (bit set in `ip6Ext`). */
export const enum Ip6Ext {
  HOP_BY_HOP = 1,
  ROUTING = 2,
  FRAGMENT = 4,
  DEST_OPTS = 8,
  AH = 16,
  MOBILITY = 32,
  ESP = 64,
}

/** TCP option presence bits (in `tcpOpts`). */
export const enum TcpOpt {
  MSS = 1,
  WSCALE = 2,
  SACK_PERM = 4,
  SACK = 8,
  TIMESTAMP = 16,
  FAST_OPEN = 32,
  OTHER = 64,
}

const EMPTY = new Uint8Array(0);

export class PacketView {
  // ---- frame --------------------------------------------------------------------------------
  /** Buffer holding the frame; offsets below index into it. */
  buf: Uint8Array = new Uint8Array(0);
  frameOff = 0;
  /** frameOff + caplen: decoders must never read at or past this. */
  frameEnd = 0;
  caplen = 0;
  /** Original length on the wire (pcap orig_len). Use for byte rates. */
  wirelen = 0;
  tsSec = 0;
  /** Nanoseconds within tsSec (0..999_999_999). */
  tsNsec = 0;
  linkType = 0;
  /** pcapng interface id (0 for classic pcap). */
  ifIndex = 0;
  status = 0;
  /**
   * How many packets on the wire this view stands for: 1 for a captured packet; the sampling rate
   * for an sFlow sampled header; a flow record's (share of) packets times its sampling rate for a
   * view made from a flow (sources/flow-packets). Counters add it instead of 1. Set by the flow
   * sources, never by the capture readers (reset() leaves it).
   */
  weight = 1;
  /**
   * Packets of `weight` that were actually seen (1 for a captured packet or an sFlow sample; a
   * sampled flow record's sampled packets): what a rate estimated from sampled traffic rests on.
   */
  samples = 1;
  /**
   * 0 for a packet (captured, or an sFlow sampled header). For a view made from a flow record
   * without packet headers (NetFlow, IPFIX): the record's packet count as exported, so that
   * detection reads tcpFlags as the OR of that many packets' flags and knows no payload was seen.
   */
  flowPackets = 0;

  // ---- layer 2 ------------------------------------------------------------------------------
  /** Ethertype of the last L2 header (after VLAN/MPLS), 0 if none. */
  etherType = 0;
  vlanCount = 0;
  /** Outermost three VLAN ids. */
  vlan0 = 0;
  vlan1 = 0;
  vlan2 = 0;
  mplsCount = 0;
  /** Label of the top MPLS label stack entry. */
  mplsLabel = 0;

  // ---- tunnels ------------------------------------------------------------------------------
  tunnel = 0;
  tunnelDepth = 0;
  /** Outermost IP version (0 if no IP). */
  outerIpVersion = 0;
  outerSrc4 = 0;
  outerDst4 = 0;
  outerSrc6Off = -1;
  outerDst6Off = -1;
  /** The outermost IP header (for the `ip` raw field and outer-protocol accounting). */
  outerIpOff = -1;

  // ---- layer 3 (innermost IP) ---------------------------------------------------------------
  /** 0 (no IP), 4 or 6. */
  ipVersion = 0;
  ipOff = -1;
  /** Header length in bytes (IPv6: 40 + extension headers). */
  ipHdrLen = 0;
  /** Total length from the header (IPv4 total length; IPv6 payload length + 40). */
  ipLen = 0;
  ttl = 0;
  /** Final transport protocol number after extension headers. */
  ipProto = 0;
  ipId = 0;
  /** DSCP (6 bits) and ECN (2 bits). */
  ipDscp = 0;
  ipEcn = 0;
  /** IPv4 flags bits: 4 = reserved, 2 = DF, 1 = MF (IPv6 fragment header: MF only). */
  ipFlags = 0;
  /** Fragment offset in 8-byte units. Non-first fragments have no transport header. */
  fragOffset = 0;
  /** True for any fragment (MF set or offset > 0); IPv6 atomic fragments are not fragments. */
  isFragment = false;
  /** First byte of IPv4 options, -1 when none. */
  ipOptType = -1;
  src4 = 0;
  dst4 = 0;
  /** IPv6 addresses: offset of 16 bytes in buf, -1 when not IPv6. */
  src6Off = -1;
  dst6Off = -1;
  ip6Ext = 0;
  ip6FlowLabel = 0;

  // ---- layer 4 ------------------------------------------------------------------------------
  /** Protocol number of the transport header decoding reached (0 = none: non-first fragment, cut-off IP). */
  l4Proto = 0;
  /** Offset of the transport header, -1 when absent (non-first fragment, truncated, other). */
  l4Off = -1;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  tcpWindow = 0;
  tcpSeq = 0;
  tcpAck = 0;
  tcpHdrLen = 0;
  tcpOpts = 0;
  tcpMss = 0;
  tcpWscale = 0;
  udpLen = 0;
  icmpType = 0;
  icmpCode = 0;
  greProto = 0;

  // ---- payload ------------------------------------------------------------------------------
  /** Transport payload offset (after the TCP/UDP header), -1 when none. */
  payloadOff = -1;
  /** Captured payload bytes available from payloadOff. */
  payloadLen = 0;
  /** Payload length according to the headers (may exceed payloadLen when truncated). */
  payloadWireLen = 0;

  // ---- application --------------------------------------------------------------------------
  app = 0;

  // DNS (first question)
  dnsId = 0;
  /** The 16-bit flags word: QR = 0x8000, opcode = (f >> 11) & 15, rcode = f & 15. */
  dnsFlags = 0;
  dnsQdCount = 0;
  dnsAnCount = 0;
  dnsNsCount = 0;
  dnsArCount = 0;
  dnsQtype = 0;
  dnsQclass = 0;
  /** First question name, dotted, without trailing dot, as received (case kept), in dnsName. */
  dnsName: Uint8Array = new Uint8Array(256);
  /** -1 when there is no question (or it could not be read). */
  dnsNameLen = -1;

  // NTP
  ntpVersion = 0;
  ntpMode = 0;
  /** Mode 7 request code (e.g. 42 = MON_GETLIST_1, 20 = MON_GETLIST), -1 otherwise. */
  ntpReqCode = -1;
  /** Mode 7 response (R bit set). */
  ntpResponse = false;

  // SSDP: 1 = M-SEARCH request, 2 = NOTIFY, 3 = HTTP/1.1 200 OK response
  ssdpKind = 0;
  /** ST: header present. */
  ssdpHasSt = false;

  // memcached UDP: 1 = request (get/gets/stats/...), 2 = response VALUE, 3 = response STAT, 4 = other response
  memcachedKind = 0;

  // CLDAP: LDAP protocolOp tag number (3 searchRequest, 4 searchResEntry, 5 searchResDone), -1 none
  cldapOp = -1;

  // SNMP: PDU tag low bits (0 get, 1 getnext, 2 response, 5 getbulk ...), -1 none
  snmpPdu = -1;
  /** SNMP version field: 0 = v1, 1 = v2c, 3 = v3; -1 none. */
  snmpVersion = -1;
  /** v1/v2c community string: offset into buf (-1 none) and captured length. */
  snmpCommunityOff = -1;
  snmpCommunityLen = 0;

  // TLS ClientHello: offsets into tlsBuf (= buf except for QUIC); -1 when absent.
  /** Offset of the handshake message (type byte 0x01) and its captured length. */
  tlsHelloOff = -1;
  tlsHelloLen = 0;
  /** legacy_version from the ClientHello and the highest supported_versions value (0 if none). */
  tlsVersion = 0;
  tlsMaxVersion = 0;
  tlsSniOff = -1;
  tlsSniLen = 0;
  /** First ALPN protocol name. */
  tlsAlpnOff = -1;
  tlsAlpnLen = 0;
  /** True when the ClientHello came inside a QUIC Initial (JA4 'q' prefix). */
  tlsQuic = false;
  /**
   * The buffer the tls*Off fields index: `buf` for TLS over TCP; for QUIC, `tlsScratch`, which
   * holds the decrypted, reassembled CRYPTO stream (the packet itself is left untouched).
   */
  tlsBuf: Uint8Array = EMPTY;
  /** View-owned scratch for QUIC ClientHellos, allocated on first use and then reused. */
  tlsScratch: Uint8Array = EMPTY;

  // HTTP/1.x request: offsets into buf; -1 when absent.
  httpMethodOff = -1;
  httpMethodLen = 0;
  httpUriOff = -1;
  httpUriLen = 0;
  /** Minor version: 0 or 1 (HTTP/1.0, HTTP/1.1). */
  httpMinor = 0;
  httpHostOff = -1;
  httpHostLen = 0;
  httpUaOff = -1;
  httpUaLen = 0;
  /** HTTP response status code (App.HTTP_RESPONSE). */
  httpStatus = 0;

  /**
   * Has an application decoder run since the last reset? Every exported application decoder
   * (and decodeApp) sets this before it writes a field; most packets (a flood's, ACKs without
   * payload) never reach one, and skipping resetApp's ~40 stores for them halves reset() (a
   * microbenchmark: 22–32 ns a reset before, 14–15 after).
   */
  appDirty = false;

  /**
   * Decode TCP application data and QUIC (TLS, HTTP, DNS over TCP, QUIC Initials)? A reader
   * setting, not reset per packet: detection's own pass reads only what classifies a packet
   * (UDP services by port and content) and turns the rest off.
   */
  streamApps = true;

  /** Reset every decoded field before a new packet; frame fields are set by the reader. */
  reset(): void {
    this.status = 0;
    this.etherType = 0;
    this.vlanCount = 0;
    this.vlan0 = 0;
    this.vlan1 = 0;
    this.vlan2 = 0;
    this.mplsCount = 0;
    this.mplsLabel = 0;
    this.tunnel = 0;
    this.tunnelDepth = 0;
    this.outerIpVersion = 0;
    this.outerSrc4 = 0;
    this.outerDst4 = 0;
    this.outerSrc6Off = -1;
    this.outerDst6Off = -1;
    this.outerIpOff = -1;
    this.ipVersion = 0;
    this.ipOff = -1;
    this.ipHdrLen = 0;
    this.ipLen = 0;
    this.ttl = 0;
    this.ipProto = 0;
    this.ipId = 0;
    this.ipDscp = 0;
    this.ipEcn = 0;
    this.ipFlags = 0;
    this.fragOffset = 0;
    this.isFragment = false;
    this.ipOptType = -1;
    this.src4 = 0;
    this.dst4 = 0;
    this.src6Off = -1;
    this.dst6Off = -1;
    this.ip6Ext = 0;
    this.ip6FlowLabel = 0;
    this.resetL4();
  }

  /** Reset transport and application fields (also used when descending into a tunnel). */
  resetL4(): void {
    this.l4Proto = 0;
    this.l4Off = -1;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.tcpWindow = 0;
    this.tcpSeq = 0;
    this.tcpAck = 0;
    this.tcpHdrLen = 0;
    this.tcpOpts = 0;
    this.tcpMss = 0;
    this.tcpWscale = 0;
    this.udpLen = 0;
    this.icmpType = 0;
    this.icmpCode = 0;
    this.greProto = 0;
    this.payloadOff = -1;
    this.payloadLen = 0;
    this.payloadWireLen = 0;
    if (this.appDirty) this.resetApp();
  }

  resetApp(): void {
    this.appDirty = false;
    this.app = 0;
    this.dnsId = 0;
    this.dnsFlags = 0;
    this.dnsQdCount = 0;
    this.dnsAnCount = 0;
    this.dnsNsCount = 0;
    this.dnsArCount = 0;
    this.dnsQtype = 0;
    this.dnsQclass = 0;
    this.dnsNameLen = -1;
    this.ntpVersion = 0;
    this.ntpMode = 0;
    this.ntpReqCode = -1;
    this.ntpResponse = false;
    this.ssdpKind = 0;
    this.ssdpHasSt = false;
    this.memcachedKind = 0;
    this.cldapOp = -1;
    this.snmpPdu = -1;
    this.snmpVersion = -1;
    this.snmpCommunityOff = -1;
    this.snmpCommunityLen = 0;
    this.tlsHelloOff = -1;
    this.tlsHelloLen = 0;
    this.tlsVersion = 0;
    this.tlsMaxVersion = 0;
    this.tlsSniOff = -1;
    this.tlsSniLen = 0;
    this.tlsAlpnOff = -1;
    this.tlsAlpnLen = 0;
    this.tlsQuic = false;
    this.tlsBuf = EMPTY;
    this.httpMethodOff = -1;
    this.httpMethodLen = 0;
    this.httpUriOff = -1;
    this.httpUriLen = 0;
    this.httpMinor = 0;
    this.httpHostOff = -1;
    this.httpHostLen = 0;
    this.httpUaOff = -1;
    this.httpUaLen = 0;
    this.httpStatus = 0;
  }
}
