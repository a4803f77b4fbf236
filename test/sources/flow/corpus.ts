/** The flow corpus (../shared/corpus/flows): its captures, their tshark truth files, and their datagrams. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readCapture } from '../../../src/sources/capture/capture.js';
import { SHARED } from '../../helpers/tshark.js';

export const FLOWS = join(SHARED, 'corpus/flows');

/** Every capture of the flow corpus, generated files first, then public/. */
export function flowFiles(): string[] {
  const list = (dir: string) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.pcap'))
      .sort()
      .map((f) => join(dir, f));
  return [...list(FLOWS), ...list(join(FLOWS, 'public'))];
}

export type TruthField = [number | null, number, string, string?];

export interface Truth {
  file: string;
  datagrams: number;
  frames_tshark_flags_malformed_or_error: number;
  tshark_error_examples?: string[];
  datagrams_not_decoded_by_tshark: number;
  udp_dst_ports: Record<string, number>;
  netflow_ipfix?: {
    versions: Record<string, number>;
    templates: { template_id: number; options: boolean; fields: TruthField[] }[];
    flow_records: number;
    options_data_records: number;
    packets: number;
    octets: number;
    flow_records_without_packet_or_octet_fields: number;
  };
  sflow?: {
    samples_per_datagram_header_sum: number;
    flow_samples: number;
    counter_samples: number;
    estimated_packets: number;
    estimated_bytes: number;
    sampling_rates: Record<string, number>;
  };
}

export function readTruth(pcap: string): Truth {
  return JSON.parse(readFileSync(pcap.replace(/\.pcap$/, '.truth.json'), 'utf8')) as Truth;
}

export function shortName(pcap: string): string {
  return basename(pcap);
}

export const haveTshark = ((): boolean => {
  try {
    execFileSync('tshark', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * tshark -T fields over a flow capture, with the non-standard ports decoded as NetFlow/IPFIX.
 * Repeated values are joined with '|' (tshark's absolute times hold commas).
 */
export function tsharkFlowFields(pcap: string, fields: string[], extra: string[] = []): string[][] {
  const decodeAs = ['9991', '9992', '2100', '9990', '8096', '2055'].flatMap((p) => ['-d', `udp.port==${p},cflow`]);
  const args = ['-r', pcap, '-n', ...decodeAs, ...extra, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=|'];
  for (const f of fields) args.push('-e', f);
  const text = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

/** One UDP datagram of a capture, with what the decoder needs besides its bytes. */
export interface Datagram {
  bytes: Uint8Array;
  src4: number;
  srcPort: number;
  dstPort: number;
  timeMs: number;
}

/** The UDP payloads of a capture, copied out (for fuzzing and the speed script). */
export async function captureDatagrams(pcap: string): Promise<Datagram[]> {
  const out: Datagram[] = [];
  await readCapture(
    pcap,
    (v) => {
      if (v.l4Proto !== 17 || v.payloadOff < 0 || v.payloadLen <= 0) return;
      out.push({
        bytes: v.buf.slice(v.payloadOff, v.payloadOff + v.payloadLen),
        src4: v.src4,
        srcPort: v.srcPort,
        dstPort: v.dstPort,
        timeMs: v.tsSec * 1000 + Math.floor(v.tsNsec / 1e6),
      });
    },
    { streamApps: false },
  );
  return out;
}
