/**
 * `palisade collect` as a user runs it, on loopback only: the flow corpus's datagrams replayed
 * through ordinary UDP sockets (one 127.0.0.x exporter per file), the records counted against the
 * truth files, the -w capture read back by tshark and by our own reader, loss reported under a
 * flood, IPv6 and dual-stack listeners, and the start-up errors. Every spawn is bounded by
 * --duration and a kill timer; every count by the corpus.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readFlowCapture } from '../../../src/sources/flow/capture-source.js';
import type { CollectorSnapshot } from '../../../src/sources/flow-listen/collector.js';
import { FLOWS, freePort, payloads, sendAll, senderSocket, spawnCollect } from './replay.js';

interface Truth {
  datagrams: number;
  udp_payload_bytes: number;
  netflow_ipfix?: { flow_records: number; packets: number };
  sflow?: { flow_samples: number; estimated_packets: number };
}

const truthOf = (pcap: string): Truth => JSON.parse(readFileSync(join(FLOWS, pcap.replace(/\.pcap$/, '.truth.json')), 'utf8')) as Truth;
const recordsOf = (t: Truth): number => (t.netflow_ipfix?.flow_records ?? 0) + (t.sflow?.flow_samples ?? 0);
/** What the records claim: packets for NetFlow/IPFIX (not renormalised, as tshark sums them), packets x rate for sFlow. */
const claimedOf = (t: Truth): number => t.netflow_ipfix?.packets ?? t.sflow?.estimated_packets ?? 0;

/** The generated files of the corpus (real exporters: softflowd, pmacct), by the listener their name says. */
const FILES = readdirSync(FLOWS)
  .filter((f) => f.endsWith('.pcap'))
  .sort();
const kindOf = (f: string): 'netflow' | 'ipfix' | 'sflow' => (f.startsWith('ipfix') ? 'ipfix' : f.startsWith('sflow') ? 'sflow' : 'netflow');

const haveTshark = spawnSync('tshark', ['-v']).status === 0;
const tmp = mkdtempSync(join(tmpdir(), 'palisade-collect-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Packets the kernel dropped from its per-CPU input backlog (/proc/net/softnet_stat, second column), all traffic. */
function backlogDrops(): number {
  try {
    return readFileSync('/proc/net/softnet_stat', 'utf8')
      .trim()
      .split('\n')
      .reduce((a, l) => a + Number.parseInt(l.split(/\s+/)[1] ?? '0', 16), 0);
  } catch {
    return 0;
  }
}

const readStats = (file: string): CollectorSnapshot & { unprinted: number } => JSON.parse(readFileSync(file, 'utf8'));

const waitFor = async (ok: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return ok();
};

describe('collect: the flow corpus replayed to UDP listeners', { timeout: 180_000 }, () => {
  test('records, claimed packets and datagrams equal the truth files; -w keeps every datagram', async () => {
    const ports = { netflow: await freePort(), ipfix: await freePort(), sflow: await freePort() };
    const truths = FILES.map(truthOf);
    const total = truths.reduce((a, t) => a + t.datagrams, 0);
    const stats = join(tmp, 'corpus.json');
    const pcap = join(tmp, 'corpus.pcap');
    // Per file: JSON lines and the packets they claim. Files go one at a time and the next starts
    // once this one's records are out, so each line belongs to the file being sent (an sFlow
    // record names its agent, not the UDP source, so the exporter field cannot tell).
    const lines = FILES.map(() => 0);
    const claimed = FILES.map(() => 0);
    let current = 0;
    const c = await spawnCollect(
      [
        ...['netflow', 'ipfix', 'sflow'].flatMap((k) => [`--${k}`, `127.0.0.1:${ports[k as keyof typeof ports]}`]),
        ...['--json', '--count', String(total), '--duration', '150', '--interval', '0', '--stats', stats, '-w', pcap],
      ],
      {
        timeoutMs: 170_000,
        onLine: (l) => {
          const r = JSON.parse(l) as { exporter: { protocol: string }; packets: number; sampling_rate: number };
          lines[current]++;
          claimed[current] += r.packets * (r.exporter.protocol === 'sflow5' ? r.sampling_rate : 1);
        },
      },
    );
    for (let i = 0; i < FILES.length; i++) {
      const file = FILES[i] as string;
      current = i;
      const s = await senderSocket(`127.0.0.${10 + i}`);
      await sendAll(s, await payloads(join(FLOWS, file)), '127.0.0.1', ports[kindOf(file)], 32, 1);
      s.close();
      // One file at a time: the next starts once this one's records are out (so the receive buffer never fills).
      await waitFor(() => (lines[i] as number) >= recordsOf(truths[i] as Truth), 20_000);
    }
    assert.equal(await c.exited, 0, c.stderr());
    const st = readStats(stats);
    assert.equal(st.stopped, 'count');
    assert.equal(st.datagrams, total);
    assert.equal(st.loss.socketDrops, 0, 'no socket drops when replayed one file at a time');
    assert.deepEqual(st.loss.sequence, { records: 0, datagrams: 0, samples: 0 }, 'each file is one exporter: no sequence gap');
    assert.equal(st.unprinted, 0);
    for (let i = 0; i < FILES.length; i++) {
      const t = truths[i] as Truth;
      const from = `127.0.0.${10 + i}`;
      const e = st.exporters.find((x) => x.address === from);
      assert.ok(e, `${FILES[i]}: exporter ${from} seen`);
      assert.equal(e.datagrams, t.datagrams, `${FILES[i]}: datagrams`);
      assert.equal(e.records, recordsOf(t), `${FILES[i]}: records`);
      assert.equal(lines[i], recordsOf(t), `${FILES[i]}: JSON lines`);
      assert.equal(claimed[i], claimedOf(t), `${FILES[i]}: packets the records claim`);
    }
    for (const l of st.listeners) assert.equal(l.otherProtocol + l.notFlow, 0, `${l.kind}: every datagram of its own protocol`);

    // The capture holds every datagram, readable by our reader (same records) ...
    const back = await readFlowCapture(pcap, () => {});
    assert.equal(back.capture.packets, total);
    assert.equal(
      back.records,
      truths.reduce((a, t) => a + recordsOf(t), 0),
    );
    if (!haveTshark) return;
    // ... and by tshark: every frame, each exporter's datagrams and payload bytes, valid checksums.
    const io = execFileSync('tshark', ['-r', pcap, '-q', '-z', 'io,stat,0'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const frames = /\|\s*0(?:\.0+)?\s*<>\s*\S+\s*\|\s*(\d+)\s*\|/.exec(io);
    assert.equal(Number(frames?.[1]), total, io);
    const rows = execFileSync(
      'tshark',
      [
        '-r',
        pcap,
        '-n',
        '-o',
        'udp.check_checksum:TRUE',
        '-o',
        'ip.check_checksum:TRUE',
        '-T',
        'fields',
        '-e',
        'ip.src',
        '-e',
        'udp.length',
        '-e',
        'udp.checksum.status',
        '-e',
        'ip.checksum.status',
      ],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      },
    )
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t'));
    assert.equal(rows.length, total);
    assert.ok(
      rows.every((r) => r[2] === '1' && r[3] === '1'),
      'UDP and IPv4 checksums all good',
    );
    for (let i = 0; i < FILES.length; i++) {
      const mine = rows.filter((r) => r[0] === `127.0.0.${10 + i}`);
      const t = truths[i] as Truth;
      assert.equal(mine.length, t.datagrams, `${FILES[i]}: frames in the -w capture`);
      assert.equal(
        mine.reduce((a, r) => a + Number(r[1]) - 8, 0),
        t.udp_payload_bytes,
        `${FILES[i]}: payload bytes in the -w capture`,
      );
    }
  });

  test('IPv6: a listener on [::1] and a dual-stack :PORT one; palisade analyze reads their -w capture', async () => {
    const v6 = await freePort(6);
    const any = await freePort(4);
    const file = 'nf9_softflowd_udp_flood_1in10.pcap';
    const small = 'ipfix_softflowd_real_rrsig_fragmented.pcap';
    const nf9 = await payloads(join(FLOWS, file));
    const ipfix = await payloads(join(FLOWS, small));
    const stats = join(tmp, 'v6.json');
    const pcap = join(tmp, 'v6.pcap');
    const total = nf9.length + 2 * ipfix.length;
    const c = await spawnCollect(
      ['--netflow', `[::1]:${v6}`, '--ipfix', `:${any}`, '--count', String(total), '--duration', '60', '--interval', '0', '--stats', stats, '-w', pcap],
      {
        timeoutMs: 90_000,
      },
    );
    const s6 = await senderSocket('::1');
    await sendAll(s6, nf9, '::1', v6, 32, 1);
    // Dual stack: the same IPFIX export once over IPv6 and once over IPv4.
    await sendAll(s6, ipfix, '::1', any, 32, 1);
    s6.close();
    const s4 = await senderSocket('127.0.0.1');
    await sendAll(s4, ipfix, '127.0.0.1', any, 32, 1);
    s4.close();
    assert.equal(await c.exited, 0, c.stderr());
    const st = readStats(stats);
    assert.equal(st.datagrams, total);
    assert.match(st.listeners[0]?.bound ?? '', /^\[::1\]:/);
    const e6 = st.exporters.filter((e) => e.address === '::1');
    const e4 = st.exporters.find((e) => e.address === '127.0.0.1');
    assert.equal(e6.length, 1, 'one IPv6 exporter, whatever socket it sent to');
    assert.equal(e6[0]?.records, recordsOf(truthOf(file)) + recordsOf(truthOf(small)));
    assert.equal(e4?.records, recordsOf(truthOf(small)), 'IPv4 on a dual-stack socket is the IPv4 exporter, not ::ffff:127.0.0.1');
    assert.equal(st.loss.socketDrops, 0);
    // `palisade analyze` reads the -w capture (IPv4 and IPv6 datagrams in one RAW file) as flow export.
    const analysis = JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', 'analyze', '--as', 'flows', '--json', '--no-detect', '--no-progress', pcap], {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      }),
    ) as { capture: { flows: { datagrams: number; records: { netflow9: number; ipfix: number } } } };
    assert.equal(analysis.capture.flows.datagrams, total);
    assert.equal(analysis.capture.flows.records.netflow9, recordsOf(truthOf(file)));
    assert.equal(analysis.capture.flows.records.ipfix, 2 * recordsOf(truthOf(small)));
    if (!haveTshark) return;
    const rows = execFileSync('tshark', ['-r', pcap, '-n', '-o', 'udp.check_checksum:TRUE', '-T', 'fields', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'udp.checksum.status'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t'));
    assert.equal(rows.length, total);
    assert.equal(rows.filter((r) => r[1] === '::1').length, nf9.length + ipfix.length);
    assert.equal(rows.filter((r) => r[0] === '127.0.0.1').length, ipfix.length);
    assert.ok(
      rows.every((r) => r[2] === '1'),
      'UDP checksums good over IPv4 and IPv6',
    );
  });
});

describe('collect: loss under a flood', { timeout: 120_000 }, () => {
  test('a listener fed faster than it decodes reports socket drops and sequence gaps; nothing is silently missing', async () => {
    // One NetFlow v5 datagram of 30 records, sent FLOOD times with its flow sequence rising as an exporter's would.
    const [first] = (await payloads(join(FLOWS, 'nf5_softflowd_syn_flood_spoofed.pcap'))).filter((d) => ((d[2] as number) << 8) + (d[3] as number) === 30);
    assert.ok(first);
    const FLOOD = 20_000;
    const per = 30;
    const datagrams = Array.from({ length: FLOOD }, (_, i) => {
      const d = Uint8Array.from(first);
      new DataView(d.buffer).setUint32(16, i * per);
      return d;
    });
    const port = await freePort();
    const stats = join(tmp, 'flood.json');
    // The smallest buffer the kernel allows: a few datagrams, so the flood overflows it for sure.
    const c = await spawnCollect(['--netflow', `127.0.0.1:${port}`, '--rcvbuf', '4096', '--duration', '60', '--interval', '0', '--stats', stats], { timeoutMs: 90_000 });
    const s = await senderSocket('127.0.0.1');
    const backlogBefore = backlogDrops();
    await sendAll(s, datagrams, '127.0.0.1', port, 2000, 0);
    s.close();
    // Let it drain what the buffer held, then stop it as a user would.
    await new Promise((r) => setTimeout(r, 1500));
    c.child.kill('SIGINT');
    assert.equal(await c.exited, 0, c.stderr());
    const st = readStats(stats);
    assert.equal(st.stopped, 'signal');
    const drops = st.loss.socketDrops ?? Number.NaN;
    assert.ok(drops > 0, `the flood overflowed the socket: ${drops} drops`);
    // Every datagram sent is either received or counted as a socket drop — unless the loopback's
    // own backlog dropped it before any socket saw it (counted by the kernel per CPU, for all traffic).
    const unseen = FLOOD - st.datagrams - drops;
    assert.ok(unseen >= 0 && unseen <= backlogDrops() - backlogBefore, `received ${st.datagrams} + socket drops ${drops} vs ${FLOOD} sent`);
    assert.equal(st.records, st.datagrams * per);
    // Sequence numbers see every drop but those after the last datagram received.
    const seq = st.loss.sequence.records;
    assert.ok(seq > 0 && seq % per === 0 && seq / per <= drops, `sequence gaps ${seq} records vs ${drops} dropped datagrams`);
    assert.match(c.stdout(), new RegExp(`loss: ${seq.toLocaleString('en-US')} records missing by sequence numbers; ${drops.toLocaleString('en-US')} socket drops`));
  });
});

describe('collect: start-up errors', { timeout: 60_000 }, () => {
  interface Ran {
    status: number | null;
    stderr: string;
  }
  /** Run collect to its end (bounded: --duration 1 and a kill timer); several at once. */
  const run = (args: string[]): Promise<Ran> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', 'collect', ...args, '--duration', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (c: string) => {
        stderr += c;
      });
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', (status) => {
        clearTimeout(killer);
        resolve({ status, stderr });
      });
    });

  test('no listener, a bad address, a bare port, one port twice: usage errors (exit 2)', async () => {
    const [none, bad, bare, twice] = await Promise.all([
      run([]),
      run(['--netflow', '999.1.1.1:2055']),
      run(['--ipfix', '4739']),
      run(['--ipfix', ':4739', '--netflow', '127.0.0.1:4739']),
    ]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /give at least one listener/);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /"999\.1\.1\.1" is not an IP address/);
    assert.equal(bare.status, 2);
    assert.match(bare.stderr, /did you mean :4739/);
    assert.equal(twice.status, 2);
    assert.match(twice.stderr, /both take port 4739/);
  });

  test('a port in use, an address not of this machine: exit 3 saying so', async () => {
    const busy = createSocket('udp4');
    await new Promise<void>((r) => busy.bind({ address: '127.0.0.1', port: 0 }, () => r()));
    const port = busy.address().port;
    try {
      const [inUse, foreign] = await Promise.all([run(['--netflow', `127.0.0.1:${port}`]), run(['--sflow', '192.0.2.1:6343'])]);
      assert.equal(inUse.status, 3, inUse.stderr);
      assert.match(inUse.stderr, new RegExp(`--netflow 127\\.0\\.0\\.1:${port}: port ${port} is already in use`));
      assert.equal(foreign.status, 3, foreign.stderr);
      assert.match(foreign.stderr, /192\.0\.2\.1 is not an address of this machine/);
    } finally {
      busy.close();
    }
  });
});
