/**
 * tshark's own dissection of flow export (`-T json`, which keeps each record's fields together,
 * where `-T fields` interleaves the records of a datagram whose templates differ): per frame, the
 * NetFlow/IPFIX data records or the sFlow flow samples, with their datagram's header.
 */
import { execFileSync } from 'node:child_process';

export type Json = { [k: string]: Json } | string;
export type Obj = Record<string, Json>;

export interface TsharkFlowRecord {
  kind: 'cflow' | 'sflow';
  /** The datagram's header fields (version, sampling, source id ...). */
  head: Obj;
  /** One data record (cflow.*) or one flow sample (sflow.*, with its "Raw packet header" tree). */
  rec: Obj;
  /** The UDP source of the datagram. */
  exporter: string;
}

export const haveTshark = ((): boolean => {
  try {
    execFileSync('tshark', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export const str = (o: Obj | undefined, k: string): string | undefined => {
  const x = o?.[k];
  return typeof x === 'string' ? x : undefined;
};
export const sub = (o: Obj | undefined, k: string): Obj | undefined => {
  const x = o?.[k];
  return x !== undefined && typeof x === 'object' ? (x as Obj) : undefined;
};

/** The records of each frame (all frames, or the first `frames`). Options records (no protocol) are left out. */
export function tsharkFlowRecords(pcap: string, frames?: number): TsharkFlowRecord[][] {
  // Exporters of the public captures on ports tshark does not take for NetFlow by itself.
  const decodeAs = ['9991', '9992', '2100', '9990', '8096'].flatMap((p) => ['-d', `udp.port==${p},cflow`]);
  const args = ['-r', pcap, '-n', ...decodeAs, ...(frames === undefined ? [] : ['-c', String(frames)]), '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-T', 'json'];
  const out = JSON.parse(execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] })) as { _source: { layers: Obj } }[];
  return out.map((fr) => {
    const layers = fr._source.layers;
    const exporter = str(sub(layers, 'ip'), 'ip.src') ?? str(sub(layers, 'ipv6'), 'ipv6.src') ?? '';
    const recs: TsharkFlowRecord[] = [];
    const sflow = sub(layers, 'sflow');
    if (sflow) {
      for (const [k, x] of Object.entries(sflow)) if (/^(Expanded flow|Flow) sample/.test(k)) recs.push({ kind: 'sflow', head: sflow, rec: x as Obj, exporter });
      return recs;
    }
    const cflow = sub(layers, 'cflow');
    if (!cflow) return recs;
    for (const [k, x] of Object.entries(cflow)) {
      if (typeof x !== 'object') continue;
      // v5: "pdu i/N" is a record; v9 "FlowSet", IPFIX "Set": "Flow i" inside.
      const inSet = k.startsWith('pdu ') ? [x as Obj] : Object.entries(x as Obj).flatMap(([fk, r]) => (fk.startsWith('Flow ') ? [r as Obj] : []));
      for (const r of inSet) if (str(r, 'cflow.protocol') !== undefined) recs.push({ kind: 'cflow', head: cflow, rec: r, exporter });
    }
    return recs;
  });
}
