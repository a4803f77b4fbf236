/**
 * Flow export for the flows bench: the UDP payloads of a corpus capture repeated to any length
 * with their sequence numbers rising as one long-lived exporter's would (so a collector counts no
 * gap that is not there), written as a capture or sent over loopback UDP as fast as the socket
 * takes them.
 */
import { createSocket } from 'node:dgram';
import { FlowDecoder } from '../src/sources/flow/datagram.js';
import { DatagramPcap, newEndpoint } from '../src/sources/flow-listen/pcap-udp.js';

export const FLOWS = new URL('../../shared/corpus/flows/', import.meta.url).pathname;

/** The UDP payloads of a capture, in order (the collect tests' reader). */
export { payloads as payloadsOf } from '../test/sources/flow-listen/replay.js';

export type Protocol = 'ipfix' | 'netflow9' | 'sflow5';

/** Offset of the 32-bit header sequence number. */
function seqOffset(p: Protocol, d: Uint8Array): number {
  if (p === 'ipfix') return 8;
  if (p === 'netflow9') return 12;
  // sFlow v5: version, address type, agent address (4 or 16 bytes), sub-agent id, then the sequence.
  const v6 = ((d[4] as number) << 24) + ((d[5] as number) << 16) + ((d[6] as number) << 8) + (d[7] as number) === 2;
  return v6 ? 28 : 16;
}

function getU32(d: Uint8Array, o: number): number {
  return (((d[o] as number) << 24) | ((d[o + 1] as number) << 16) | ((d[o + 2] as number) << 8) | (d[o + 3] as number)) >>> 0;
}
function putU32(d: Uint8Array, o: number, x: number): void {
  d[o] = x >>> 24;
  d[o + 1] = (x >>> 16) & 0xff;
  d[o + 2] = (x >>> 8) & 0xff;
  d[o + 3] = x & 0xff;
}

/** Sequence gaps a decoder counts over `ds` (any unit). */
function gaps(ds: Uint8Array[]): number {
  const dec = new FlowDecoder();
  dec.exporter.set4(0x7f000001);
  dec.exporter.port = 40000;
  for (const d of ds) dec.decode(d, 0, d.length, 0, 0);
  const s = dec.stats;
  return s.lostIpfixRecords + s.lostNetflow9Datagrams + s.lostNetflow5Flows + s.lostSflowDatagrams;
}

export interface Repeated {
  datagrams: Uint8Array[];
  /** Records one pass of the source gives (flow records + sFlow flow samples). */
  recordsPerPass: number;
  passes: number;
  /** Sequence gaps a decoder sees over the whole set: 0 when the numbering came out right. */
  gaps: number;
}

/**
 * `passes` copies of `base`, pass k's sequence numbers moved on by k times what one pass advances
 * them. What a pass advances depends on the exporter's counting (RFC 7011 counts every data record,
 * softflowd flow records only; NetFlow v9 counts export packets, sFlow datagrams): the step that
 * leaves a decoder with no gap over two passes is taken. sFlow's per-source sample numbers are
 * left as they are (a decoder sees them restart each pass: not loss).
 */
export function repeatWithSequence(base: Uint8Array[], protocol: Protocol, passes: number): Repeated {
  const dec = new FlowDecoder();
  dec.exporter.set4(0x7f000001);
  for (const d of base) dec.decode(d, 0, d.length, 0, 0);
  const st = dec.stats;
  const recordsPerPass = st.flowRecords + st.flowSamples;
  const first = base[0] as Uint8Array;
  const last = base[base.length - 1] as Uint8Array;
  const span = (getU32(last, seqOffset(protocol, last)) - getU32(first, seqOffset(protocol, first))) >>> 0;
  const lastCount = protocol === 'ipfix' ? 0 : 1;
  const candidates = protocol === 'ipfix' ? [st.flowRecords, st.flowRecords + st.optionsRecords, span] : [span + lastCount, base.length];
  const build = (step: number, n: number): Uint8Array[] => {
    const out: Uint8Array[] = [];
    for (let k = 0; k < n; k++) {
      for (const d of base) {
        const c = Uint8Array.from(d);
        const o = seqOffset(protocol, c);
        putU32(c, o, (getU32(c, o) + k * step) >>> 0);
        out.push(c);
      }
    }
    return out;
  };
  let step = candidates[0] as number;
  for (const c of candidates) {
    if (gaps(build(c, 2)) === 0) {
      step = c;
      break;
    }
  }
  const datagrams = build(step, passes);
  return { datagrams, recordsPerPass, passes, gaps: gaps(datagrams) };
}

/** Write the datagrams as a capture from 127.0.0.1:40000 to 127.0.0.1:`port`, 1 µs apart. */
export function writeCapture(path: string, datagrams: Uint8Array[], port: number): void {
  const w = new DatagramPcap(path);
  const src = newEndpoint('127.0.0.1', 40000);
  const dst = newEndpoint('127.0.0.1', port);
  const t0 = Date.UTC(2026, 0, 1);
  for (let i = 0; i < datagrams.length; i++) w.write(src, dst, datagrams[i] as Uint8Array, t0 + i / 1000);
  w.close();
}

export interface Sent {
  datagrams: number;
  seconds: number;
}

/**
 * Send every datagram to 127.0.0.1:port as fast as the socket takes them (a connected socket, a
 * window of sends in flight, no pause): the same offered load for every collector. On this
 * machine node:dgram offers about 100 k datagrams/s from one core.
 */
export async function blast(datagrams: Uint8Array[], port: number, window = 1024): Promise<Sent> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.connect(port, '127.0.0.1', () => r()));
  s.setSendBufferSize(8 << 20);
  const t0 = performance.now();
  let next = 0;
  let done = 0;
  let failed = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (next < datagrams.length && next - done < window) {
        s.send(datagrams[next++] as Uint8Array, (err) => {
          // A refused send (the collector not yet or no longer there) is counted, not fatal.
          if (err) failed++;
          done++;
          if (done === datagrams.length) resolve();
          else if (next - done < window / 2) pump();
        });
      }
    };
    pump();
  });
  const seconds = (performance.now() - t0) / 1000;
  s.close();
  return { datagrams: datagrams.length - failed, seconds };
}
