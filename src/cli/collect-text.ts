/**
 * What `palisade collect` tells a person: the start-up line (where it listens, what buffer the
 * kernel granted), a periodic line per interval (rates, per exporter, loss) and the final summary.
 * Loss is always printed, zero included, with both of its sources side by side: a collector that
 * says nothing about loss reads as "no loss", which it may not be.
 */
import { nativeNote } from '../sources/flow-listen/batch-socket.js';
import type { CollectorSnapshot, ListenerSnapshot } from '../sources/flow-listen/collector.js';
import type { ExporterSnapshot } from '../sources/flow-listen/exporters.js';

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

function rate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(x >= 100 ? 0 : 1);
}

function mib(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`;
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** "0 socket drops" or "socket drops unknown (no /proc)". */
function socketDrops(d: number | null): string {
  return d === null ? 'socket drops unknown (no /proc/net/udp)' : `${n(d)} socket drops`;
}

function sequenceText(s: CollectorSnapshot['loss']['sequence']): string {
  const parts: string[] = [];
  if (s.records > 0) parts.push(`${n(s.records)} records`);
  if (s.datagrams > 0) parts.push(`${n(s.datagrams)} datagrams`);
  if (s.samples > 0) parts.push(`${n(s.samples)} sFlow samples`);
  return parts.length === 0 ? '0 by sequence numbers' : `${parts.join(' + ')} missing by sequence numbers`;
}

/** The line printed once the sockets are open. */
export function startText(s: CollectorSnapshot, rmemMax: number | null): string {
  const lines = s.listeners.map((l) => `  --${l.kind} ${l.requested} -> listening on ${l.bound} (UDP, read with ${readerText(l)}), receive buffer ${bufferText(l, rmemMax)}`);
  return `collect: started ${new Date(s.startedMs).toISOString()}\n${lines.join('\n')}\n`;
}

/** recvmmsg batches, or node:dgram with the reason the addon is not in use. */
function readerText(l: ListenerSnapshot): string {
  return l.reader === 'recvmmsg' ? 'recvmmsg batches' : `node:dgram; recvmmsg addon ${nativeNote}`;
}

function bufferText(l: ListenerSnapshot, rmemMax: number | null): string {
  const { requested, granted } = l.recvBuffer;
  // Linux doubles the value asked for (bookkeeping overhead) and reports the doubled figure.
  const capped = granted < requested;
  const cap =
    capped && rmemMax !== null
      ? `; capped by net.core.rmem_max = ${mib(rmemMax)}, raise it with: sysctl -w net.core.rmem_max=${requested}`
      : capped
        ? '; capped by the kernel'
        : '';
  return `${mib(granted)} granted (asked ${mib(requested)}${cap})`;
}

export interface Tick {
  atMs: number;
  datagrams: number;
  records: number;
  exporters: Map<string, number>;
}

export function tickOf(s: CollectorSnapshot): Tick {
  return { atMs: s.atMs, datagrams: s.datagrams, records: s.records, exporters: new Map(s.exporters.map((e) => [e.address, e.records])) };
}

const MAX_EXPORTER_LINES = 8;

/** One interval's report: rates since `prev`, totals, per exporter (busiest first), loss. */
export function periodicText(s: CollectorSnapshot, prev: Tick): string {
  const dt = Math.max(1e-3, (s.atMs - prev.atMs) / 1000);
  const head =
    `${clock(s.atMs)}  ${rate((s.records - prev.records) / dt)} records/s, ${rate((s.datagrams - prev.datagrams) / dt)} datagrams/s; ` +
    `total ${n(s.records)} records in ${n(s.datagrams)} datagrams from ${n(s.exporters.length)} exporter${s.exporters.length === 1 ? '' : 's'}; ` +
    `loss: ${sequenceText(s.loss.sequence)}, ${socketDrops(s.loss.socketDrops)}`;
  const rows = s.exporters.slice(0, MAX_EXPORTER_LINES).map((e) => `  ${exporterText(e, (e.records - (prev.exporters.get(e.address) ?? 0)) / dt)}`);
  if (s.exporters.length > MAX_EXPORTER_LINES) rows.push(`  ... and ${n(s.exporters.length - MAX_EXPORTER_LINES)} more exporters`);
  return `${[head, ...rows].join('\n')}\n`;
}

function exporterText(e: ExporterSnapshot, perSecond: number | null): string {
  const lost = e.lost.records + e.lost.datagrams + e.lost.samples === 0 ? 'no sequence gap' : sequenceText(e.lost);
  const r = perSecond === null ? '' : `${rate(perSecond)} records/s, `;
  return `${e.address.padEnd(16)} ${e.protocols.join('+').padEnd(9)} ${r}${n(e.records)} records in ${n(e.datagrams)} datagrams; ${lost}`;
}

const STOPPED: Record<string, string> = {
  count: 'the datagram count (--count) was reached',
  duration: 'the duration (--duration) ran out',
  signal: 'a signal asked it to',
  closed: 'it was closed',
};

/** The final summary. `unprinted`: --json records that stdout could not take (counted, not hidden). */
export function finalText(s: CollectorSnapshot, unprinted = 0): string {
  const secs = Math.max(1e-3, (s.atMs - s.startedMs) / 1000);
  const d = s.decoder;
  const out: string[] = [];
  out.push(`collect: stopped after ${secs.toFixed(1)} s: ${STOPPED[s.stopped ?? 'closed']}`);
  out.push(
    `  received ${n(s.datagrams)} datagrams (${mib(s.bytes)}): ${n(d.flowRecords)} flow records, ${n(d.flowSamples)} sFlow flow samples, ` +
      `${n(d.optionsRecords)} options records, ${n(d.counterSamples + d.expandedCounterSamples)} sFlow counter samples; ${rate(s.records / secs)} records/s on average`,
  );
  for (const l of s.listeners) {
    const odd = [l.otherProtocol > 0 ? `${n(l.otherProtocol)} of another protocol` : '', l.notFlow > 0 ? `${n(l.notFlow)} not flow export` : ''].filter((x) => x !== '');
    out.push(`  --${l.kind} ${l.bound}: ${n(l.datagrams)} datagrams${odd.length > 0 ? ` (${odd.join(', ')})` : ''}, ${socketDrops(l.socketDrops)}`);
  }
  for (const e of s.exporters.slice(0, MAX_EXPORTER_LINES)) out.push(`  exporter ${exporterText(e, null)}`);
  if (s.exporters.length > MAX_EXPORTER_LINES) out.push(`  ... and ${n(s.exporters.length - MAX_EXPORTER_LINES)} more exporters`);
  out.push(`  loss: ${sequenceText(s.loss.sequence)}; ${socketDrops(s.loss.socketDrops)} (datagrams the kernel dropped: receive buffer full)`);
  if (s.loss.sflowAgentDrops > 0) out.push(`  sFlow agents report ${n(s.loss.sflowAgentDrops)} packets they could not sample (loss at the exporter)`);
  const left = s.listeners.reduce((a, l) => a + (l.rxQueueBytes ?? 0), 0);
  if (left > 0) out.push(`  ${n(left)} bytes were still queued in the sockets at stop, unread (neither counted nor lost)`);
  if (unprinted > 0) out.push(`  ${n(unprinted)} records decoded but not printed: stdout did not keep up`);
  const odd: string[] = [];
  if (d.malformedDatagrams > 0) odd.push(`${n(d.malformedDatagrams)} malformed datagrams`);
  if (d.notFlow > 0) odd.push(`${n(d.notFlow)} datagrams not flow export`);
  if (d.pendingHeld > 0) odd.push(`${n(d.pendingHeld)} data sets held for their template (${n(d.pendingDecodedSets)} decoded later, ${n(d.pendingDropped)} dropped)`);
  if (d.malformedTemplates + d.malformedSets + d.malformedRecords + d.malformedSamples > 0) {
    odd.push(`${n(d.malformedTemplates)} bad templates, ${n(d.malformedSets)} bad sets, ${n(d.malformedRecords)} bad records, ${n(d.malformedSamples)} bad samples`);
  }
  out.push(`  templates: ${n(d.templates)} data, ${n(d.optionsTemplates)} options${odd.length > 0 ? `; ${odd.join('; ')}` : ''}`);
  if (s.pcap !== null) out.push(`  wrote ${n(s.pcap.datagrams)} datagrams to ${s.pcap.path}`);
  return `${out.join('\n')}\n`;
}
