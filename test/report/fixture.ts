/**
 * Report fixtures from real captures of the shared corpus: the analysis comes from
 * analyzeCapture, and each Attack record is built from the corpus MANIFEST's ground truth (which
 * packets are the attack), measured packet by packet here, independently of the detector that
 * is being written. Records are validated against schema/attack.schema.json and
 * schema/analysis.schema.json by the tests.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/analyze/run.js';
import { formatIpv4 } from '../../src/core/net/ip.js';
import type { PacketView } from '../../src/decode/view.js';
import { buildMitigation } from '../../src/export/mitigation.js';
import type { Analysis } from '../../src/model/analysis.js';
import type { Attack, Vector } from '../../src/model/attack.js';
import { compilePacketRule } from '../../src/rules/packet-ir.js';
import { readCapture } from '../../src/sources/capture/capture.js';

export const CORPUS = join(import.meta.dirname, '../../../shared/corpus/real');
export const DNS_AMP = join(CORPUS, 'ddos/amp.dns.RRSIG.fragmented.pcap');
export const SYN_FLOOD = join(CORPUS, 'ddos/ddosgrid.synflood.pcap');
export const TLS = join(CORPUS, 'edge/tls_chrome-34-google.pcap');

const ROOT = join(import.meta.dirname, '../..');

/** Records are checked with the one validator the report uses (src/model/validate.ts). */
export { schemaErrors } from '../../src/model/validate.js';

interface Truth {
  id: string;
  vector: Vector;
  victim: Attack['victim'];
  /** The ground truth: is this packet part of the attack? */
  isAttack: (v: PacketView) => boolean;
  expression: string;
  spoofed: boolean;
}

const iso = (ns: bigint) => {
  const ms = ns / 1_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').slice(0, 6);
  return `${new Date(Number(ms)).toISOString().slice(0, 19)}.${frac}Z`;
};

/** Measure one attack over the capture: counts, window, 1 s peaks, sources, signature quality. */
export async function attackFromTruth(capture: string, t: Truth): Promise<Attack> {
  const match = compilePacketRule(t.expression, null);
  let packets = 0;
  let bytes = 0;
  let first = -1n;
  let last = 0n;
  const perSec = new Map<number, { p: number; b: number }>();
  const sources = new Map<string, number>();
  let matchedAttack = 0;
  let matchedOther = 0;
  let other = 0;
  await readCapture(capture, (v) => {
    const hit = match(v);
    if (!t.isAttack(v)) {
      other++;
      if (hit) matchedOther++;
      return;
    }
    if (hit) matchedAttack++;
    const ns = BigInt(v.tsSec) * 1_000_000_000n + BigInt(v.tsNsec);
    if (first < 0n) first = ns;
    last = ns;
    packets++;
    bytes += v.wirelen;
    const s = perSec.get(v.tsSec) ?? { p: 0, b: 0 };
    s.p++;
    s.b += v.wirelen;
    perSec.set(v.tsSec, s);
    if (v.ipVersion === 4) {
      const ip = formatIpv4(v.src4);
      sources.set(ip, (sources.get(ip) ?? 0) + 1);
    }
  });
  let peakPps = 0;
  let peakBps = 0;
  for (const s of perSec.values()) {
    peakPps = Math.max(peakPps, s.p);
    peakBps = Math.max(peakBps, s.b * 8);
  }
  const top = [...sources.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 10)
    .map(([ip, n]) => ({ ip, packets: n }));
  const m = buildMitigation({
    expression: t.expression,
    id: t.id,
    description: `${t.vector} against ${t.victim.ip ?? t.victim.prefix}`,
  });
  if (m.problems.length > 0) throw new Error(`fixture signature does not export: ${JSON.stringify(m.problems)}`);
  return {
    id: t.id,
    vector: t.vector,
    victim: t.victim,
    start: iso(first),
    end: iso(last),
    detected_at: iso(first + 1_000_000_000n < last ? first + 1_000_000_000n : last),
    packets,
    bytes,
    peak_pps: peakPps,
    peak_bps: peakBps,
    sources: { unique: sources.size, spoofed_likely: t.spoofed, top },
    signature: {
      expression: t.expression,
      coverage: packets === 0 ? 0 : matchedAttack / packets,
      collateral: other === 0 ? 0 : matchedOther / other,
    },
    confidence: 0.9,
    evidence: {
      out_of_state: null,
      handshakes_completed: null,
      sources_per_packet: packets === 0 ? 0 : Math.min(1, sources.size / packets),
      spoofed_likely: t.spoofed,
      separating_fields: [],
      signature: 'fields',
      field_signature: { expression: t.expression, coverage: packets === 0 ? 0 : matchedAttack / packets, collateral: other === 0 ? 0 : matchedOther / other },
    },
    mitigation: {
      ruleset: m.ruleset,
      nftables: m.nftables,
      iptables: m.iptables,
    },
  };
}

const VICTIM = 0x0a0a0a0a; // 10.10.10.10, the publisher's anonymised victim

/**
 * amp.dns.RRSIG.fragmented.pcap (MANIFEST): RRSIG responses from port 53 to the victim's UDP
 * port 22 plus the non-first fragments of those responses; the victim's own TCP traffic is the
 * legitimate background.
 */
export async function dnsAmpAnalysis(): Promise<Analysis> {
  const a = await analyzeCapture(DNS_AMP);
  // The fixture's attacks are the ground truth alone, whatever detection finds.
  a.attacks = [];
  a.attacks.push(
    await attackFromTruth(DNS_AMP, {
      id: 'dns-amp-1',
      vector: 'dns_amplification',
      victim: { ip: '10.10.10.10', port: 22, protocol: 'udp' },
      isAttack: (v) => v.ipVersion === 4 && v.dst4 === VICTIM && ((v.l4Proto === 17 && v.srcPort === 53) || (v.isFragment && v.fragOffset > 0)),
      expression: 'ip.dst == 10.10.10.10 and udp.srcport == 53',
      spoofed: false,
    }),
  );
  return a;
}

/** ddosgrid.synflood.pcap (MANIFEST): hping3 SYNs from 10.0.1.2 with window 512; a real connection follows. */
export async function synFloodAnalysis(): Promise<Analysis> {
  const a = await analyzeCapture(SYN_FLOOD);
  a.attacks = [];
  a.attacks.push(
    await attackFromTruth(SYN_FLOOD, {
      id: 'syn-1',
      vector: 'tcp_syn_flood',
      victim: { ip: '10.0.1.12', port: 12345, protocol: 'tcp' },
      isAttack: (v) => v.l4Proto === 6 && v.tcpFlags === 0x02 && v.tcpWindow === 512,
      expression: 'ip.src == 10.0.1.2 and ip.dst == 10.0.1.12 and tcp.dstport == 12345 and tcp.flags == 0x02',
      spoofed: false,
    }),
  );
  return a;
}

export const HOSTILE = {
  sni: '<script>window.__pwned=1</script>',
  dns: '**bold** [x](javascript:alert(1)) | cell `code` <img src=x onerror=alert(1)>',
  ja4: '"><svg onload=alert(1)>',
  customer: 'Evil <b>Corp</b> & "Co" | *',
  file: '/tmp/<iframe src=//evil.example>.pcap',
};

/** A real TLS capture's analysis with hostile names planted where capture strings end up. */
export async function hostileAnalysis(): Promise<Analysis> {
  const a = await analyzeCapture(TLS);
  a.attacks = [];
  a.capture.file = HOSTILE.file;
  a.traffic.top_tls_sni.unshift({ name: HOSTILE.sni, packets: 7 });
  a.traffic.top_dns_names.unshift({ name: HOSTILE.dns, packets: 3 });
  a.traffic.top_ja4.unshift({ name: HOSTILE.ja4, packets: 2 });
  return a;
}

export interface Demo {
  analysis: Analysis;
  capture: string;
  /** Ground-truth label of every packet: 0 benign, k = the k-th attack of the truth file. */
  labels: Uint8Array;
}

const DEMO_SIGNATURES: Partial<Record<Vector, (v: Attack['victim']) => string>> = {
  tcp_syn_flood: (v) => `ip.dst == ${v.ip} and tcp.dstport == ${v.port} and tcp.flags == 0x02`,
  dns_amplification: (v) => `ip.dst == ${v.ip} and udp.srcport == 53`,
};

/**
 * `palisade generate demo` (benign mix, a spoofed SYN flood and a DNS amplification) analysed,
 * with Attack records measured from the generator's per-packet ground-truth labels.
 */
export async function demoAnalysis(dir: string): Promise<Demo> {
  const capture = join(dir, 'demo.pcap');
  execFileSync(process.execPath, [join(ROOT, 'bin/palisade.js'), 'generate', 'demo', '--packets', '20000', '--seed', '1', '-w', capture], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const truth = JSON.parse(readFileSync(join(dir, 'demo.truth.json'), 'utf8')) as {
    attacks: Array<{ label: number; vector: Vector; victim: Attack['victim']; sources: { kind: string } }>;
    labels: { encoding: string; data: string };
  };
  if (truth.labels.encoding !== 'base64-u8') throw new Error(`unexpected label encoding ${truth.labels.encoding}`);
  const labels = new Uint8Array(Buffer.from(truth.labels.data, 'base64'));
  const analysis = await analyzeCapture(capture);
  analysis.attacks = [];
  for (const t of truth.attacks) {
    const sig = DEMO_SIGNATURES[t.vector];
    if (!sig) throw new Error(`no fixture signature for ${t.vector}`);
    let k = 0;
    analysis.attacks.push(
      await attackFromTruth(capture, {
        id: `demo-${t.label}`,
        vector: t.vector,
        victim: t.victim,
        isAttack: () => labels[k++] === t.label,
        expression: sig(t.victim),
        spoofed: t.sources.kind === 'spoofed',
      }),
    );
  }
  return { analysis, capture, labels };
}
