/**
 * Application decoders on real captures, compared field by field with tshark 4.0 (an independent
 * dissector) on the same frames: DNS, NTP, SNMP, TLS ClientHello (SNI, ALPN, JA3), HTTP.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsQname } from '../../src/decode/dns.js';
import { httpHost, httpMethod, httpUri, httpUserAgent } from '../../src/decode/http.js';
import { ja3, ja3String } from '../../src/decode/ja3.js';
import { ja4 } from '../../src/decode/ja4.js';
import { snmpCommunity } from '../../src/decode/snmp.js';
import { tlsAlpn, tlsSni } from '../../src/decode/tls.js';
import { App } from '../../src/decode/view.js';
import { decode, samples } from './app-payloads.js';

const DNS_FILES = ['edge/dns53.pcap', 'edge/pcapng-multi-interface.pcapng', 'edge/ipv6-fragmented-dns.pcap', 'ddos/amp.dns.RRSIG.fragmented.pcap'];

test('DNS: header counts and first question match tshark', () => {
  let checked = 0;
  for (const f of DNS_FILES) {
    // ICMP errors quote DNS too; our decoder (like any L7 decoder) does not look inside them.
    for (const s of samples(f, 'dns && !icmp && !icmpv6', [
      'dns.id',
      'dns.flags',
      'dns.count.queries',
      'dns.count.answers',
      'dns.count.auth_rr',
      'dns.count.add_rr',
      'dns.qry.name',
      'dns.qry.type',
      'dns.qry.class',
    ])) {
      const v = decode(s);
      const where = `${f} frame ${s.frame}`;
      assert.equal(v.app, App.DNS, where);
      const [id, flags, qd, an, ns, ar, name, qtype, qclass] = s.fields;
      assert.equal(v.dnsId, Number(id), where);
      assert.equal(v.dnsFlags, Number(flags), where);
      assert.equal(v.dnsQdCount, Number(qd), where);
      assert.equal(v.dnsAnCount, Number(an), where);
      assert.equal(v.dnsNsCount, Number(ns), where);
      assert.equal(v.dnsArCount, Number(ar), where);
      assert.equal(dnsQname(v), name, where);
      assert.equal(v.dnsQtype, Number(qtype), where);
      assert.equal(v.dnsQclass, Number(qclass), where);
      checked++;
    }
  }
  // 1 + 6 + 5 + 547 DNS messages in those files (tshark's count, reassembly off).
  assert.equal(checked, 559);
});

test('DNS: the RRSIG amplification responses are type 46 for pizzaseo.com from port 53', () => {
  let rrsig = 0;
  for (const s of samples('ddos/amp.dns.RRSIG.fragmented.pcap', 'udp.srcport == 53 && udp.dstport == 22 && !icmp')) {
    const v = decode(s);
    assert.equal(v.app, App.DNS);
    if (v.dnsQtype === 46 && dnsQname(v) === 'pizzaseo.com' && (v.dnsFlags & 0x8000) !== 0) rrsig++;
  }
  assert.equal(rrsig, 523); // MANIFEST ground truth
});

test('NTP: version, mode, mode-7 request code and response bit match tshark', () => {
  let monlist = 0;
  let checked = 0;
  for (const f of ['edge/ntp_ntpmode67.pcap', 'edge/ntp_ntp2.pcap']) {
    for (const s of samples(f, 'ntp', ['ntp.flags.vn', 'ntp.flags.mode', 'ntp.priv.reqcode', 'ntp.priv.flags.r'])) {
      const v = decode(s);
      const where = `${f} frame ${s.frame}`;
      const [vn, mode, reqcode, r] = s.fields;
      assert.equal(v.app, App.NTP, where);
      assert.equal(v.ntpVersion, Number(vn), where);
      assert.equal(v.ntpMode, Number(mode), where);
      if (v.ntpMode === 7) {
        assert.equal(v.ntpReqCode, Number(reqcode), where);
        assert.equal(v.ntpResponse, r === '1' || r === 'True', where);
        if (v.ntpReqCode === 42 && !v.ntpResponse) monlist++;
      } else {
        assert.equal(v.ntpReqCode, -1, where);
      }
      checked++;
    }
  }
  assert.equal(checked, 9 + 35);
  assert.ok(monlist >= 1, 'the MON_GETLIST_1 request is recognised');
});

test('SNMP: version, community and PDU type match tshark on the reflection capture', () => {
  let n = 0;
  const pdus = new Map<number, number>();
  for (const s of samples('ddos/amp.UDP.snmp.src161.pcapng', 'snmp && !icmp', ['snmp.version', 'snmp.community', 'snmp.data'])) {
    const v = decode(s);
    const where = `frame ${s.frame}`;
    assert.equal(v.app, App.SNMP, where);
    assert.equal(v.snmpVersion, Number(s.fields[0]), where);
    assert.equal(snmpCommunity(v), s.fields[1], where);
    assert.equal(v.snmpPdu, Number(s.fields[2]), where);
    pdus.set(v.snmpPdu, (pdus.get(v.snmpPdu) ?? 0) + 1);
    n++;
  }
  assert.ok(n >= 4079, `${n} SNMP messages`);
  assert.ok((pdus.get(2) ?? 0) > 4000, 'mostly GetResponse PDUs from port 161');
});

test('TLS ClientHello: SNI, first ALPN and JA3 (string and MD5) match tshark', () => {
  const files = ['edge/tls_chrome-34-google.pcap', 'edge/tls_tls13-ech.pcap', 'ddos/amp.dns.RRSIG.fragmented.pcap'];
  let n = 0;
  for (const f of files) {
    for (const s of samples(f, 'tls.handshake.type == 1', [
      'tls.handshake.extensions_server_name',
      'tls.handshake.extensions_alpn_str',
      'tls.handshake.ja3',
      'tls.handshake.ja3_full',
      'tls.handshake.version',
      'tls.handshake.extensions.supported_version',
    ])) {
      const v = decode(s);
      const where = `${f} frame ${s.frame}`;
      const [sniName, alpn, ja3md5, ja3full, version] = s.fields;
      assert.equal(v.app, App.TLS_CLIENT_HELLO, where);
      assert.equal(v.tlsHelloOff, 5, where);
      assert.equal(tlsSni(v), sniName, where);
      assert.equal(tlsAlpn(v), alpn, where);
      assert.equal(ja3String(v), ja3full, where);
      assert.equal(ja3(v), ja3md5, where);
      assert.equal(v.tlsVersion, Number(version), where);
      n++;
    }
  }
  assert.equal(n, 6);
});

test('TLS: supported_versions maximum and JA4 of the corpus hellos', () => {
  const got = new Map<string, string>();
  for (const f of ['edge/tls_chrome-34-google.pcap', 'edge/tls_tls13-ech.pcap']) {
    for (const s of samples(f, 'tls.handshake.type == 1')) {
      const v = decode(s);
      got.set(`${f}#${s.frame}`, `${v.tlsMaxVersion.toString(16)} ${ja4(v)}`);
    }
  }
  // Chrome 34 predates TLS 1.3 (no supported_versions): version from legacy_version 0x0303,
  // 20 ciphers, 11 extensions, first ALPN "spdy/3" -> "s3". Hashes hand-checked against the
  // JA4 spec's recipe with sha256sum.
  assert.equal(got.get('edge/tls_chrome-34-google.pcap#4'), '0 t12d2011s3_8dd61975155f_06a4338d0495');
  // Current Chrome with ECH: FoxIO's README lists t13d1517h2_8daaf6152771_b1ff8ab2d16f as Chrome.
  assert.equal(got.get('edge/tls_tls13-ech.pcap#7'), '304 t13d1517h2_8daaf6152771_b1ff8ab2d16f');
  assert.equal(got.get('edge/tls_tls13-ech.pcap#39'), '304 t13d1517h2_8daaf6152771_b1ff8ab2d16f');
});

test('HTTP: method, URI, version, Host, User-Agent and status match tshark', () => {
  let req = 0;
  let resp = 0;
  for (const f of ['edge/http_get.pcap', 'edge/wikipedia.pcap', 'edge/workshop_2011_browse.pcap', 'edge/http-vlan-0.pcap', 'edge/ipv6-http-atomic-frag.pcap']) {
    for (const s of samples(f, 'http.request || http.response', [
      'http.request.method',
      'http.request.uri',
      'http.request.version',
      'http.host',
      'http.user_agent',
      'http.response.code',
      'http.response.version',
    ])) {
      const v = decode(s);
      const where = `${f} frame ${s.frame}`;
      const [method, uri, version, host, ua, code, rversion] = s.fields;
      if (method !== '') {
        assert.equal(v.app, App.HTTP_REQUEST, where);
        assert.equal(httpMethod(v), method, where);
        assert.equal(httpUri(v), uri, where);
        // An HTTP/0.9-style line ("GET /bad.html") has no version; the view then keeps minor 0.
        if (version !== '') assert.equal(`HTTP/1.${v.httpMinor}`, version, where);
        else assert.equal(v.httpMinor, 0, where);
        assert.equal(httpHost(v), host, where);
        assert.equal(httpUserAgent(v), ua, where);
        req++;
      } else {
        assert.equal(v.app, App.HTTP_RESPONSE, where);
        assert.equal(v.httpStatus, Number(code), where);
        assert.equal(`HTTP/1.${v.httpMinor}`, rversion, where);
        resp++;
      }
    }
  }
  assert.ok(req >= 30 && resp >= 30, `${req} requests, ${resp} responses`);
});

test('SYN payloads are never decoded as L7 (ddosgrid hping flood, TCP Fast Open)', () => {
  let syn = 0;
  for (const f of ['ddos/ddosgrid.synflood.pcap', 'edge/tcp_tcp-fast-open.pcap']) {
    for (const s of samples(f, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.len > 0')) {
      const v = decode(s);
      assert.equal(v.app, App.NONE, `${f} frame ${s.frame}`);
      syn++;
    }
  }
  assert.ok(syn >= 7658, `${syn} SYNs with payload`);
});

test('non-application traffic on well-known ports is not claimed: BACnet, ISAKMP, Dahua', () => {
  for (const f of ['ddos/amp.UDP.bacnet.IOT.37810.pcapng', 'ddos/amp.UDP.isakmp.pcap']) {
    for (const s of samples(f, 'udp && !icmp').slice(0, 2000)) {
      const v = decode(s);
      assert.equal(v.app, App.NONE, `${f} frame ${s.frame}`);
    }
  }
});
