/**
 * Filter and what-if on flows (rules/filter-flows.ts, mitigate/whatif-flows.ts) against tshark:
 * on corpus captures of NetFlow v5/v9 and sFlow export, a rule matching the attack of the truth
 * file counts the records tshark's dissection matches with the same condition, and the packets
 * and bytes they claim, scaled by the truth file's sampling rate. Then the rate limit's spreading
 * of a flow over its duration, and the CLI (`filter`, `mitigate` with and without --as).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, test } from 'node:test';
import { RuleEngine } from '../../src/mitigate/engine.js';
import { FLOW_MODEL } from '../../src/mitigate/flow-model.js';
import { parseRuleset } from '../../src/mitigate/ruleset.js';
import { runFlowWhatIf } from '../../src/mitigate/whatif-flows.js';
import { filterFlows } from '../../src/rules/filter-flows.js';
import { flowRecord as flow, v4 } from '../helpers/flow-view.js';
import { SHARED } from '../helpers/tshark.js';
import { haveTshark, type Obj, str, sub, type TsharkFlowRecord, tsharkFlowRecords } from '../helpers/tshark-flows.js';

const FLOWS = join(SHARED, 'corpus/flows');

interface Attack {
  vector: string;
  victim: { ip?: string; prefix?: string; port: number | null };
}

/** The attack of a truth file, and the rate its sampled export was made at (not renormalised: multiply). */
function truthOf(file: string): { attack: Attack; rate: number } {
  const t = JSON.parse(readFileSync(join(FLOWS, file.replace(/\.pcap$/, '.truth.json')), 'utf8')) as { sampling: string; source: { attacks: Attack[] } };
  const m = /sampling_rate (\d+)/.exec(t.sampling);
  return { attack: t.source.attacks[0] as Attack, rate: m ? Number(m[1]) : 1 };
}

/** The rule for the attack, and the same condition on one record of tshark's dissection. */
function ruleFor(a: Attack): { expr: string; test: (r: TsharkFlowRecord) => boolean } {
  const victim = a.victim.ip !== undefined ? `ip.dst == ${a.victim.ip}` : `ip.dst in {${a.victim.prefix}}`;
  const [net, len] = (a.victim.prefix ?? `${a.victim.ip}/32`).split('/') as [string, string];
  const mask = Number(len) === 0 ? 0 : 2 ** 32 - 2 ** (32 - Number(len));
  const inVictim = (dst: string | undefined) => dst !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(dst) && (v4(dst) & mask) >>> 0 === (v4(net) & mask) >>> 0;
  /** The fields tshark shows for the record: the record's own (cflow) or its sampled header's (sFlow). */
  const fields = (r: TsharkFlowRecord) => {
    if (r.kind === 'cflow') {
      const proto = str(r.rec, 'cflow.protocol');
      return {
        dst: str(r.rec, 'cflow.dstaddr'),
        proto,
        sport: str(r.rec, 'cflow.srcport'),
        dport: str(r.rec, 'cflow.dstport'),
        flags: Number.parseInt(str(r.rec, 'cflow.tcpflags') ?? '0', 16),
      };
    }
    const t = sub(sub(r.rec, 'Raw packet header'), 'sflow_245.header_tree');
    const udp = sub(t, 'udp');
    const tcp = sub(t, 'tcp');
    return {
      dst: str(sub(t, 'ip'), 'ip.dst'),
      proto: udp ? '17' : tcp ? '6' : undefined,
      sport: str(udp, 'udp.srcport') ?? str(tcp, 'tcp.srcport'),
      dport: str(udp, 'udp.dstport') ?? str(tcp, 'tcp.dstport'),
      flags: Number.parseInt(str(tcp, 'tcp.flags') ?? '0', 16),
    };
  };
  if (a.vector === 'dns_amplification')
    return {
      expr: `udp.srcport == 53 and ${victim}`,
      test: (r) => {
        const f = fields(r);
        return f.proto === '17' && f.sport === '53' && inVictim(f.dst);
      },
    };
  if (a.vector === 'tcp_syn_flood')
    return {
      expr: `tcp.flags.syn and not tcp.flags.ack and tcp.dstport == ${a.victim.port} and ${victim}`,
      test: (r) => {
        const f = fields(r);
        return f.proto === '6' && (f.flags & 0x12) === 0x02 && f.dport === String(a.victim.port) && inVictim(f.dst);
      },
    };
  throw new Error(`no rule for ${a.vector}`);
}

/** Packets and bytes a record of tshark's dissection claims (an sFlow sample: one frame of its length). */
function claimed(r: TsharkFlowRecord): { packets: number; bytes: number } {
  if (r.kind === 'cflow') return { packets: Number(str(r.rec, 'cflow.packets')), bytes: Number(str(r.rec, 'cflow.octets')) };
  return { packets: 1, bytes: Number(str(sub(r.rec, 'Raw packet header') as Obj, 'sflow_245.header.frame_length')) };
}

const FILES = [
  'nf9_softflowd_dns_amplification.pcap',
  'nf5_pmacct_carpet_bombing_1in4.pcap',
  'ipfix_pmacct_multi_vector.pcap',
  'sflow5_pmacct_dns_amplification_1in8.pcap',
  'sflow5_pmacct_syn_flood_spoofed_1in10_counters.pcap',
];

describe('filter and what-if on flows against tshark', { skip: haveTshark ? false : 'tshark is not installed' }, () => {
  for (const file of FILES) {
    test(file, async () => {
      const pcap = join(FLOWS, file);
      const { attack, rate } = truthOf(file);
      const rule = ruleFor(attack);
      const want = { records: 0, packets: 0, bytes: 0, packets_est: 0, bytes_est: 0 };
      const all = { records: 0, packets: 0, bytes: 0 };
      for (const frame of tsharkFlowRecords(pcap))
        for (const r of frame) {
          const c = claimed(r);
          all.records++;
          all.packets += c.packets;
          all.bytes += c.bytes;
          if (!rule.test(r)) continue;
          want.records++;
          want.packets += c.packets;
          want.bytes += c.bytes;
          want.packets_est += c.packets * rate;
          want.bytes_est += c.bytes * rate;
        }
      assert.ok(want.records > 100, `${want.records} attack records in tshark's dissection`);

      const f = await filterFlows(pcap, [rule.expr]);
      assert.deepEqual(f.counts[0], want, 'filter');
      assert.equal(f.total.records, all.records);
      assert.equal(f.total.packets_est, all.packets * rate, 'every record carries the rate the truth file states');

      const ruleset = parseRuleset(JSON.stringify({ name: 'attack', rules: [{ id: 'attack', expression: rule.expr, action: 'block' }] }), 'attack.json');
      const w = await runFlowWhatIf(pcap, ruleset);
      assert.deepEqual(w.totals.dropped, { packets: want.packets_est, bytes: want.bytes_est, records: want.records }, 'what-if dropped');
      assert.deepEqual(w.rules[0]?.matched, w.totals.dropped);
      assert.equal(w.totals.packets, all.packets * rate);
      assert.equal(w.totals.records, all.records);
      assert.equal(w.totals.passed.packets + w.totals.dropped.packets, w.totals.packets);
      assert.equal(w.flows?.records, all.records);
      assert.deepEqual(w.flows?.sampling_rates, { [String(rate)]: all.records });
    });
  }
});

/** One flow record as the decoders would hand it over. */

describe('rate limits on flows', () => {
  const ruleset = parseRuleset(
    JSON.stringify({
      name: 'limit',
      rules: [{ id: 'dns', expression: 'udp.srcport == 53', action: 'rate_limit', action_parameters: { rate: 100, unit: 'packets', burst: 200, key: 'ip.src' } }],
    }),
    'limit.json',
  );

  it('let a flow under the rate through whole, however many packets it has', () => {
    const e = new RuleEngine(ruleset, { model: FLOW_MODEL });
    e.process(flow('192.0.2.1', '198.51.100.10', 6000, 0, 60_000));
    assert.equal(e.totals.passed.packets, 6000);
    assert.equal(e.totals.rate_limited.packets, 0);
  });

  it('stop what a burst exceeds, and count the rest as passed, the record under its last verdict', () => {
    const e = new RuleEngine(ruleset, { model: FLOW_MODEL });
    // 1,000 packets in 1 s from one source: the bucket holds 200 and refills 100 in that second.
    e.process(flow('192.0.2.1', '198.51.100.10', 1000, 1000, 2000));
    assert.equal(e.totals.passed.packets, 300);
    assert.equal(e.totals.rate_limited.packets, 700);
    assert.equal(e.totals.passed.records, 1);
    assert.equal(e.totals.rate_limited.records, 0);
    // Sampled 1:10: 50 records of one packet each are 500 packets at one instant; another source has its own bucket.
    for (let i = 0; i < 50; i++) e.process(flow('192.0.2.2', '198.51.100.10', 1, 2000, 2000, 10));
    assert.equal(e.totals.packets, 1500);
    assert.equal(e.totals.passed.packets, 300 + 200);
    assert.equal(e.ruleStats()[0]?.rate_limited.packets, 700 + 300);
    assert.equal(e.totals.rate_limited.records, 30);
  });
});

describe('palisade filter and mitigate on a flow capture', () => {
  const RUN = [process.execPath, '--import', 'tsx', 'test/helpers/run-cli.ts'];
  const cli = (...args: string[]) => spawnSync(RUN[0] as string, [...RUN.slice(1), ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const pcap = join(FLOWS, 'nf9_softflowd_dns_amplification.pcap');

  it('read a capture of flow export as flows without --as, and as its datagrams with --as packets', () => {
    const flows = cli('filter', pcap, 'udp.srcport == 53 and ip.dst == 198.51.100.10', '--count');
    assert.equal(flows.status, 0, flows.stderr);
    assert.match(flows.stdout, /^10,362 of 16,375 flow records; 10,362 packets, 15,187,060 bytes as exported \(unsampled\)$/m);
    const packets = cli('filter', '--as', 'packets', pcap, '-e', 'udp.dstport == 2055');
    assert.equal(packets.stdout.trim(), '522');
  });

  it('print the matching records as FlowRecord JSON lines', () => {
    const r = cli('filter', '--as', 'flows', pcap, 'tcp.dstport == 443 and flow.packets > 1', '--json');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { dstport: number; proto: number; packets: number; exporter: { protocol: string } });
    assert.equal(lines.length, 823);
    assert.ok(lines.every((x) => x.dstport === 443 && x.proto === 6 && x.packets > 1 && x.exporter.protocol === 'netflow9'));
    assert.match(r.stderr, /^823 of 16,375 flow records; 7,313 packets/);
  });

  it('run a ruleset over the flows, and refuse options that only packets have', () => {
    const rs = join(tmpdir(), `palisade-whatif-flows-${process.pid}.json`);
    writeFileSync(rs, JSON.stringify({ name: 'dns', rules: [{ id: 'dns', expression: 'udp.srcport == 53 and ip.dst == 198.51.100.10', action: 'block' }] }));
    const r = cli('mitigate', '-r', rs, pcap, '--json', '--no-progress');
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { totals: { dropped: { packets: number; records: number } }; flows: { records: number } };
    assert.deepEqual([report.totals.dropped.packets, report.totals.dropped.records, report.flows.records], [10362, 10362, 16375]);
    const bad = cli('mitigate', '-r', rs, '--as', 'flows', pcap, '--dropped', '/dev/null');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /work on packets/);
  });
});
