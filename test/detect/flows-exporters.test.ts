/**
 * Issue 14: our generator's attack captures, turned into flow export by real exporters (softflowd's
 * NetFlow v9 and IPFIX, pmacctd's sFlow at 1:1 and 1:1000), analysed as flows: every attack found on
 * the packets is found on the flows with the same vector and victim; a flash crowd and benign
 * traffic give none. The exported datagrams go to a UDP socket of this test on loopback (bounded in
 * time) and are kept in a pcap the way a collector's tcpdump would keep them.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { analyzeCapture, analyzeFlowCapture } from '../../src/analyze/run.js';
import { generate } from '../../src/generate/generator.js';
import { PcapWriter } from '../../src/sources/capture/pcap-writer.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missing = ['softflowd', 'pmacctd'].filter((c) => !has(c));
const dir = mkdtempSync(join(tmpdir(), 'palisade-flows-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** LINKTYPE_IPV4: each datagram is kept with an IPv4 and a UDP header, as it arrived. */
const LINK_IPV4 = 228;

/**
 * Run an exporter that sends to 127.0.0.1:<port> and keep what arrives until it exits (or the time
 * limit), plus a second for the last datagrams. Returns the pcap path and the datagram count.
 */
async function exportFlows(name: string, cmd: (port: number) => string[], limitMs = 60_000): Promise<{ pcap: string; datagrams: number }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.setRecvBufferSize(32 * 1024 * 1024);
  const port = sock.address().port;
  const pcap = join(dir, `${name}.pcap`);
  const w = new PcapWriter(pcap, { linkType: LINK_IPV4 });
  let datagrams = 0;
  sock.on('message', (msg, rinfo) => {
    const frame = new Uint8Array(28 + msg.length);
    const dv = new DataView(frame.buffer);
    dv.setUint8(0, 0x45);
    dv.setUint16(2, frame.length);
    dv.setUint8(8, 64);
    dv.setUint8(9, 17);
    dv.setUint32(12, 0x7f000001);
    dv.setUint32(16, 0x7f000001);
    dv.setUint16(20, rinfo.port);
    dv.setUint16(22, port);
    dv.setUint16(24, 8 + msg.length);
    frame.set(msg, 28);
    const now = Date.now();
    w.write(frame, 0, frame.length, frame.length, Math.floor(now / 1000), (now % 1000) * 1e6);
    datagrams++;
  });
  const argv = cmd(port);
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGINT'), limitMs);
  await new Promise<void>((r) => child.once('exit', () => r()));
  clearTimeout(timer);
  await new Promise((r) => setTimeout(r, 1000));
  sock.close();
  w.close();
  return { pcap, datagrams };
}

function pmacctConf(name: string, src: string, port: number, rate: number): string {
  const conf = join(dir, `${name}.conf`);
  writeFileSync(
    conf,
    [
      'daemonize: false',
      `pcap_savefile: ${src}`,
      'plugins: sfprobe[s]',
      `sfprobe_receiver[s]: 127.0.0.1:${port}`,
      'sfprobe_agentip[s]: 192.0.2.1',
      'sfprobe_ifindex[s]: 3',
      'sfprobe_ifspeed[s]: 10000000000',
      `sampling_rate: ${rate}`,
      'snaplen: 128',
      `logfile: ${join(dir, `${name}.log`)}`,
      '',
    ].join('\n'),
  );
  return conf;
}

const EXPORTERS: Array<{ name: string; cmd: (src: string, port: number, tag: string) => string[] }> = [
  { name: 'netflow9 (softflowd)', cmd: (src, port) => ['softflowd', '-d', '-r', src, '-n', `127.0.0.1:${port}`, '-v', '9'] },
  { name: 'ipfix (softflowd)', cmd: (src, port) => ['softflowd', '-d', '-r', src, '-n', `127.0.0.1:${port}`, '-v', '10', '-A', 'milli'] },
  { name: 'sflow 1:1 (pmacctd)', cmd: (src, port, tag) => ['pmacctd', '-f', pmacctConf(tag, src, port, 1)] },
];

const key = (a: { vector: string; victim: { ip?: string; prefix?: string } }) => `${a.vector}@${a.victim.ip ?? a.victim.prefix}`;

describe('detection on flows from real exporters', { skip: missing.length > 0 ? `not installed: ${missing.join(', ')}` : false }, () => {
  const scenarios = [
    { scenario: 'tcp_syn_flood', packets: 60_000 },
    { scenario: 'dns_amplification', packets: 60_000 },
    { scenario: 'udp_flood', packets: 60_000 },
    { scenario: 'ntp_amplification', packets: 60_000 },
    { scenario: 'flash-crowd-https', packets: 80_000 },
    { scenario: 'benign', packets: 60_000 },
  ];
  for (const { scenario, packets } of scenarios) {
    test(`${scenario}: the packets' attacks, on NetFlow v9, IPFIX and sFlow 1:1`, { timeout: 300_000 }, async () => {
      const src = join(dir, `${scenario}.pcap`);
      generate(scenario, src, { packets, seed: 1, micro: false, noTruth: true });
      const onPackets = (await analyzeCapture(src, { parallel: false })).attacks.map(key).sort();
      if (scenario.startsWith('flash-crowd') || scenario === 'benign') assert.deepEqual(onPackets, []);
      else assert.ok(onPackets.length > 0, `${scenario}: found on packets`);
      for (const ex of EXPORTERS) {
        const tag = `${scenario}-${ex.name.replace(/\W+/g, '_')}`;
        const { pcap, datagrams } = await exportFlows(tag, (port) => ex.cmd(src, port, tag));
        assert.ok(datagrams > 0, `${ex.name}: exported something`);
        const a = await analyzeFlowCapture(pcap);
        assert.deepEqual(a.attacks.map(key).sort(), onPackets, `${ex.name} on ${scenario}`);
      }
    });
  }

  test('sFlow 1:1000 (pmacctd) on a long SYN flood: found, with the packet count scaled', { timeout: 300_000 }, async () => {
    const src = join(dir, 'syn-long.pcap');
    generate('tcp_syn_flood', src, { packets: 1_500_000, seed: 2, micro: false, noTruth: true });
    const onPackets = await analyzeCapture(src, { parallel: false });
    const { pcap } = await exportFlows('syn-long-sflow1000', (port) => ['pmacctd', '-f', pmacctConf('syn-long-sflow1000', src, port, 1000)]);
    const a = await analyzeFlowCapture(pcap);
    assert.deepEqual(a.attacks.map(key).sort(), onPackets.attacks.map(key).sort());
    // About 1,500 samples of 1,000 packets each: the estimate is within a few per cent.
    const ratio = a.capture.packets / onPackets.capture.packets;
    assert.ok(ratio > 0.9 && ratio < 1.1, `scaled packets ${a.capture.packets} vs ${onPackets.capture.packets}`);
  });
});
