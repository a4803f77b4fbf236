/**
 * The ruleset and the crafted traffic the kernel proof tests share: attacks (NTP reflection,
 * SYN floods from a few sources, ICMP floods, odd TCP flags, low TTL, blocked and watched
 * sources) mixed with benign web and DNS traffic, IPv4 and IPv6, about one second long.
 */
import { frame, type PacketSpec } from '../mitigate/packets.js';

export const KERNEL_RULESET = `name: kernel-proof
lists:
  office: { kind: allow, entries: [192.0.2.0/28, "2001:db8:1::/48"] }
  drop: { kind: block, entries: [198.51.100.0/24, 198.51.100.77, "2001:db8:bad::/48"] }
  watch: { entries: [100.64.0.0/10, "2001:db8:64::/48"] }
rules:
  - id: log-watch
    expression: ip.src in $watch
    action: log
  - id: ntp-amp
    expression: udp.srcport == 123 and ip.len > 400
    action: block
  - id: syn-limit
    expression: tcp.flags.syn and not tcp.flags.ack and tcp.dstport in {80 443}
    action: rate_limit
    action_parameters: { rate: 1, period: minute, burst: 5, key: ip.src }
  - id: icmp-bytes
    expression: icmp.type in {8 128}
    action: rate_limit
    action_parameters: { rate: 1000, period: minute, unit: bytes, burst: 0, key: none }
  - id: not-web
    expression: ip.dst == 203.0.113.10 and not tcp.dstport in {80 443}
    action: block
  - id: low-ttl
    expression: ip.ttl < 5
    action: block
  - id: v6-udp
    expression: ip.src in {2001:db8::/32} and ip.proto == "udp"
    action: block
  - id: odd-flags
    expression: tcp.flags.fin xor tcp.flags.syn
    action: block
  - id: port-range
    expression: udp.dstport in {5000..5010 6000} and not ip.src in {10.9.0.0/16}
    action: block
  - id: allow-web
    expression: tcp.dstport == 443
    action: allow
  - id: after-allow
    expression: tcp.dstport == 443 or tcp.dstport == 8443
    action: block
  - id: disabled
    expression: ip.len > 0
    action: block
    enabled: false
`;

export function kernelTraffic(): { data: Uint8Array; t: number }[] {
  const specs: PacketSpec[] = [];
  const web = (src: string, dst = '203.0.113.20'): PacketSpec => ({ src, dst, proto: 'tcp', dport: 443, flags: 0x18, payload: 200 });
  for (let i = 0; i < 60; i++) {
    specs.push(web(`192.0.2.${1 + (i % 40)}`));
    specs.push(web(`2001:db8:${i % 3}::${i + 1}`, '2001:db8:ffff::10'));
    specs.push({ src: `198.18.${i}.1`, dst: '203.0.113.53', proto: 'udp', sport: 40000 + i, dport: 53, payload: 40 });
    if (i % 2 === 0) specs.push({ src: '198.51.100.77', dst: '203.0.113.20', proto: 'udp', sport: 123, dport: 5000, payload: 440 });
    if (i % 3 === 0) specs.push({ src: '198.18.200.1', dst: '203.0.113.20', proto: 'udp', sport: 123, dport: 40001, payload: 468 });
    if (i % 3 === 1) specs.push({ src: '198.18.200.2', dst: '203.0.113.20', proto: 'udp', sport: 123, dport: 40001, payload: 40 });
    if (i < 24) specs.push({ src: `198.18.9.${1 + (i % 3)}`, dst: '203.0.113.20', proto: 'tcp', dport: i % 2 ? 80 : 443, flags: 0x02 });
    if (i < 12) specs.push({ src: '2001:db8:99::1', dst: '2001:db8:ffff::10', proto: 'tcp', dport: 80, flags: 0x02 });
    if (i < 20) specs.push({ src: i % 2 ? '198.18.50.1' : '2001:db8:50::1', dst: i % 2 ? '203.0.113.20' : '2001:db8:ffff::10', proto: 'icmp', payload: 72 });
    if (i % 4 === 0) specs.push({ src: '198.18.7.7', dst: '203.0.113.10', proto: i % 8 ? 'udp' : 'gre', dport: 9999 });
    if (i % 5 === 0) specs.push({ src: '198.18.7.8', dst: '203.0.113.10', proto: 'tcp', dport: 80, flags: 0x10 });
    if (i % 6 === 0) specs.push({ src: '198.18.7.9', dst: '203.0.113.30', proto: 'tcp', dport: 22, flags: 0x18, ttl: 3 });
    if (i % 6 === 1) specs.push({ src: '2001:db8:7::9', dst: '2001:db8:ffff::30', proto: 'tcp', dport: 22, flags: 0x18, ttl: 2 });
    if (i % 7 === 0) specs.push({ src: '2001:db8:bad::1', dst: '2001:db8:ffff::10', proto: 'udp', dport: 53 });
    if (i % 5 === 1) specs.push({ src: '2001:db8:5::1', dst: '2001:db8:ffff::10', proto: 'udp', dport: 1000 + i });
    if (i % 4 === 1) specs.push({ src: '198.18.3.3', dst: '203.0.113.40', proto: 'tcp', dport: 8080, flags: i % 8 === 1 ? 0x01 : 0x03 });
    if (i % 3 === 2) specs.push({ src: i % 2 ? '10.9.1.1' : '10.8.1.1', dst: '203.0.113.40', proto: 'udp', dport: 5000 + (i % 12) });
    if (i % 5 === 2) specs.push({ src: '100.64.1.1', dst: '203.0.113.40', proto: 'tcp', dport: 8443, flags: 0x18 });
    if (i % 5 === 3) specs.push({ src: '2001:db8:64::5', dst: '2001:db8:ffff::40', proto: 'tcp', dport: 443, flags: 0x18 });
  }
  const n = specs.length;
  return specs.map((s, i) => ({ data: frame(s), t: (i * 0.8) / n }));
}
