/**
 * The real captures of ../shared/corpus/real against the ground truth in its MANIFEST.md: every
 * attack capture yields its vector, victim and the signature shape the manifest expects (and
 * the captures that are not floods yield none); every edge-case capture (benign traffic) yields
 * no attack at all.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sigOf } from '../helpers/signature.js';
import { CORPUS } from '../helpers/tshark.js';
import { analyzeJson } from './truth.js';

interface Expect {
  vector: string;
  ip: string;
  port?: number;
  /** Constraints the signature must contain (text as we print it). */
  has: string[];
  minCoverage: number;
}

/** MANIFEST.md, "ddos/": vector, victim and expected signature of each attack capture. */
const DDOS: Record<string, Expect[]> = {
  'amp.TCP.reflection.SYNACK.pcap': [{ vector: 'tcp_synack_flood', ip: '10.10.10.10', has: ['ip.dst == 10.10.10.10', 'tcp.flags == 0x12'], minCoverage: 0.99 }],
  // A low-rate reflection remnant (about 1 pps): not a flood.
  'amp.TCP.syn.optionallyACK.optionallysamePort.pcapng': [],
  'amp.UDP.bacnet.IOT.37810.pcapng': [
    { vector: 'udp_reflection', ip: '10.10.10.1', port: 30120, has: ['udp.srcport in {37810 47808}', 'udp.dstport == 30120'], minCoverage: 0.99 },
  ],
  'amp.UDP.isakmp.pcap': [{ vector: 'udp_reflection', ip: '10.10.10.10', has: ['udp.srcport == 4500'], minCoverage: 0.99 }],
  'amp.UDP.snmp.src161.pcapng': [{ vector: 'snmp_amplification', ip: '10.10.10.10', has: ['udp.srcport == 161'], minCoverage: 0.99 }],
  'amp.dns.RRSIG.fragmented.pcap': [{ vector: 'dns_amplification', ip: '10.10.10.10', has: ['udp.srcport == 53', 'or ip.frag_offset > 0'], minCoverage: 0.99 }],
  'pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng': [{ vector: 'tcp_syn_flood', ip: '10.10.10.10', port: 30120, has: ['tcp.flags == 0xc2', 'tcp.dstport == 30120'], minCoverage: 0.99 }],
  'pkt.TCP.synflood.spoofed.pcap': [
    { vector: 'tcp_syn_flood', ip: '10.10.10.10', port: 25565, has: ['tcp.flags == 0x02', 'tcp.dstport == 25565', 'tcp.window == 0'], minCoverage: 0.99 },
  ],
  'ddosgrid.synflood.pcap': [
    {
      vector: 'tcp_syn_flood',
      ip: '10.0.1.12',
      port: 12345,
      has: ['ip.src == 10.0.1.2', 'tcp.flags == 0x02', 'tcp.window == 512', 'tcp.dstport == 12345'],
      minCoverage: 0.99,
    },
  ],
  // MANIFEST: a port scan (one source, ~5,000 ports): `scanner` from 10.0.1.2, not a flood.
  'ddosgrid.portscan.pcap': [{ vector: 'scanner', ip: '10.0.1.12', has: ['ip.src == 10.0.1.2', 'tcp.flags == 0x02'], minCoverage: 0.99 }],
};

test('every ddos/ capture: the MANIFEST ground truth', async () => {
  const files = readdirSync(join(CORPUS, 'ddos')).sort();
  assert.deepEqual(files, Object.keys(DDOS).sort(), 'every capture has an expectation');
  for (const f of files) {
    const out = await analyzeJson(join(CORPUS, 'ddos', f));
    const want = DDOS[f] as Expect[];
    assert.equal(out.attacks.length, want.length, `${f}: ${out.attacks.map((a) => `${a.vector}@${a.victim.ip} ${sigOf(a).expression}`).join(' | ')}`);
    for (const w of want) {
      const a = out.attacks.find((x) => x.vector === w.vector && x.victim.ip === w.ip);
      assert.ok(a, `${f}: ${w.vector} on ${w.ip}`);
      if (w.port !== undefined) assert.equal(a.victim.port, w.port, `${f}: port`);
      for (const h of w.has) assert.ok(sigOf(a).expression.includes(h), `${f}: "${sigOf(a).expression}" lacks "${h}"`);
      assert.ok(sigOf(a).coverage >= w.minCoverage, `${f}: coverage ${sigOf(a).coverage}`);
    }
  }
});

test('every edge/ capture (benign traffic): no attack', async () => {
  for (const f of readdirSync(join(CORPUS, 'edge')).sort()) {
    const out = await analyzeJson(join(CORPUS, 'edge', f));
    assert.deepEqual(
      out.attacks.map((a) => `${a.vector}@${a.victim.ip ?? a.victim.prefix}`),
      [],
      f,
    );
  }
});
