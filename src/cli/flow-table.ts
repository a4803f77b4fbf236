/** Flow records and their counts for a person: one short line per record, one line of totals. */
import { formatIpv4, formatIpv6 } from '../core/net/ip.js';
import { protoName } from '../core/net/protocols.js';
import type { FlowTally } from '../rules/filter-flows.js';
import { FlowKind, type FlowView } from '../sources/flow/record-view.js';

const KIND: Record<number, string> = { [FlowKind.NETFLOW5]: 'nf5', [FlowKind.NETFLOW9]: 'nf9', [FlowKind.IPFIX]: 'ipfix', [FlowKind.SFLOW5]: 'sflow' };

const n = (x: number) => Math.round(x).toLocaleString('en-US');

function endpoint(v: FlowView, src: boolean): string {
  const off = src ? v.src6Off : v.dst6Off;
  const addr = v.ipVersion === 6 && off >= 0 ? formatIpv6(v.buf, off) : v.ipVersion === 4 ? formatIpv4(src ? v.src4 : v.dst4) : '-';
  const ports = v.proto === 6 || v.proto === 17 || v.proto === 132;
  if (!ports) return addr;
  const port = src ? v.srcPort : v.dstPort;
  return v.ipVersion === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** TCP flags as letters, FSRPAUEC order (tcpdump's for the common ones). */
function flags(v: FlowView): string {
  if (v.proto !== 6) return '';
  let s = '';
  const names = 'FSRPAUEC';
  for (let i = 0; i < 8; i++) if (v.tcpFlags & (1 << i)) s += names[i];
  return s === '' ? '-' : s;
}

export function flowTableHead(): string {
  return `${'end (UTC)'.padEnd(23)} ${'kind'.padEnd(5)} ${'source'.padStart(22)}    ${'destination'.padEnd(22)} ${'proto'.padEnd(6)} ${'flags'.padEnd(8)} ${'packets'.padStart(9)} ${'bytes'.padStart(11)} ${'rate'.padStart(6)}`;
}

export function flowRow(v: FlowView): string {
  const end = new Date(Math.min(Math.max(v.endMs, v.startMs, 0), 8.64e15)).toISOString().replace('T', ' ').replace('Z', '');
  const rate = Math.max(1, Math.round(v.samplingRate));
  return `${end.padEnd(23)} ${(KIND[v.kind] ?? '?').padEnd(5)} ${endpoint(v, true).padStart(22)} -> ${endpoint(v, false).padEnd(22)} ${(v.ipVersion === 0 ? '-' : protoName(v.proto)).padEnd(6)} ${flags(v).padEnd(8)} ${n(v.packets).padStart(9)} ${n(v.bytes).padStart(11)} ${(rate === 1 ? '1' : `1:${rate}`).padStart(6)}`;
}

/** "N of M records; P packets, B bytes as exported; ≈ P' packets, B' bytes on the network". */
export function tallyLine(t: FlowTally, total: FlowTally): string {
  const scaled = t.packets_est !== t.packets || t.bytes_est !== t.bytes;
  return `${n(t.records)} of ${n(total.records)} flow records; ${n(t.packets)} packets, ${n(t.bytes)} bytes as exported${scaled ? `; ${n(t.packets_est)} packets, ${n(t.bytes_est)} bytes on the network (x sampling rate)` : ' (unsampled)'}`;
}
