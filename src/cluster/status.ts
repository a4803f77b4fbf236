/**
 * `palisade cluster status`: what the stream knows about the cluster, read from JetStream alone
 * (no registry of our own): the nodes are the `<site>.<node>` pairs of the stream's subjects, each
 * one's role and liveness come from its last `summary` (sensors and edges publish one a second),
 * and the consumers' lag is JetStream's own count of what each durable has not acknowledged.
 */

import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import pc from 'picocolors';
import { PalisadeError } from '../core/errors.js';
import { textTable } from '../core/text-table.js';
import { fmtBytes, fmtInt } from '../report/terminal.js';
import { Bus, connectError, dialNats, limitsText, type NatsSettings, natsOptions, redact } from './bus.js';
import { ALL_SUBJECTS, EVENT_KINDS, type EventKind, NODE_ROLES, type NodeRole, parseSubject, STREAM } from './subjects.js';

export interface NodeStatus {
  site: string;
  node: string;
  /** From its last summary; null when it never sent one (or the summary names no known role). */
  role: NodeRole | null;
  /** When JetStream stored its last summary (ms since the epoch; the node's liveness), null if none. */
  lastSummaryMs: number | null;
  /** The summary's own `timeMs` (the node's clock, or a replayed capture's), null when absent. */
  summaryTimeMs: number | null;
  /** Seconds from the last summary to `nowMs`. */
  lagS: number | null;
  /** Messages the stream holds from it, per kind. */
  kinds: Record<EventKind, number>;
}

export interface ConsumerStatus {
  durable: string;
  /** Messages of its filter not yet delivered to it. */
  pending: number;
  /** Delivered and not yet acknowledged. */
  ackPending: number;
  redelivered: number;
  /** Its last delivery or ack (ms since the epoch); null when the server does not say. */
  lastActiveMs: number | null;
}

export interface StreamStatus {
  name: string;
  exists: boolean;
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
  /** When the oldest event held was stored (ms since the epoch), null when empty: how far back a correlator could catch up. */
  firstTimeMs?: number | null;
  /** Seconds from the oldest event held to `nowMs`, null when empty. */
  heldS?: number | null;
  /** Its retention (0: no limit of that kind). */
  maxBytes?: number;
  maxAgeMs?: number;
  replicas?: number;
}

export interface ClusterStatus {
  stream: StreamStatus;
  nodes: NodeStatus[];
  consumers: ConsumerStatus[];
}

/** The cluster as the stream shows it at `nowMs`: through a bus already connected, or a short-lived connection (bounded by `timeoutMs`). */
export async function clusterStatus(source: Bus | NatsSettings, nowMs: number, timeoutMs = 5000): Promise<ClusterStatus> {
  if (source instanceof Bus) return readStatus(await source.manager(), nowMs);
  let nc: Awaited<ReturnType<typeof dialNats>>;
  try {
    nc = await dialNats({ ...natsOptions(source), reconnect: false, timeout: timeoutMs });
  } catch (e) {
    throw connectError(source.url, e);
  }
  try {
    let jsm: JetStreamManager;
    try {
      jsm = await jetstreamManager(nc, { timeout: timeoutMs });
    } catch (e) {
      throw new PalisadeError('E_DEPENDENCY', `NATS at ${redact(source.url)} has no JetStream (${(e as Error).message}): start nats-server with -js`);
    }
    return await readStatus(jsm, nowMs);
  } finally {
    await nc.close().catch(() => {});
  }
}

async function readStatus(jsm: JetStreamManager, nowMs: number): Promise<ClusterStatus> {
  let info: Awaited<ReturnType<JetStreamManager['streams']['info']>>;
  try {
    info = await jsm.streams.info(STREAM, { subjects_filter: ALL_SUBJECTS });
  } catch (e) {
    if ((e as { code?: number }).code === 10059 || (e as Error).name === 'StreamNotFoundError')
      return { stream: { name: STREAM, exists: false, messages: 0, bytes: 0, firstSeq: 0, lastSeq: 0 }, nodes: [], consumers: [] };
    throw new PalisadeError('E_DEPENDENCY', `stream ${STREAM}: ${(e as Error).message}`);
  }
  const byNode = new Map<string, NodeStatus>();
  for (const [subj, n] of Object.entries(info.state.subjects ?? {})) {
    const p = parseSubject(subj);
    if (p === null) continue;
    const key = `${p.site}.${p.node}`;
    let s = byNode.get(key);
    if (s === undefined) {
      s = { site: p.site, node: p.node, role: null, lastSummaryMs: null, summaryTimeMs: null, lagS: null, kinds: { summary: 0, attack: 0, alert: 0, decision: 0 } };
      byNode.set(key, s);
    }
    s.kinds[p.kind] += n;
  }
  const nodes = [...byNode.values()].sort((a, b) => (a.site === b.site ? cmp(a.node, b.node) : cmp(a.site, b.site)));
  await Promise.all(
    nodes
      .filter((s) => s.kinds.summary > 0)
      .map(async (s) => {
        const m = await jsm.streams.getMessage(STREAM, { last_by_subj: `palisade.${s.site}.${s.node}.summary` }).catch(() => null);
        if (m === null) return;
        s.lastSummaryMs = m.time.getTime();
        s.lagS = Math.max(0, (nowMs - s.lastSummaryMs) / 1000);
        let payload: unknown = null;
        try {
          payload = m.json();
        } catch {}
        if (typeof payload === 'object' && payload !== null) {
          const { role, timeMs } = payload as { role?: unknown; timeMs?: unknown };
          if (typeof role === 'string' && (NODE_ROLES as readonly string[]).includes(role)) s.role = role as NodeRole;
          if (typeof timeMs === 'number' && Number.isFinite(timeMs)) s.summaryTimeMs = timeMs;
        }
      }),
  );
  const consumers: ConsumerStatus[] = [];
  for await (const ci of jsm.consumers.list(STREAM)) {
    const active = [ci.delivered?.last_active, ci.ack_floor?.last_active].map(timeOf).filter((t): t is number => t !== null);
    consumers.push({
      durable: ci.config.durable_name ?? ci.name,
      pending: ci.num_pending,
      ackPending: ci.num_ack_pending,
      redelivered: ci.num_redelivered,
      lastActiveMs: active.length === 0 ? null : Math.max(...active),
    });
  }
  consumers.sort((a, b) => cmp(a.durable, b.durable));
  const st = info.state;
  const first = st.messages > 0 ? timeOf(st.first_ts) : null;
  return {
    stream: {
      name: STREAM,
      exists: true,
      messages: st.messages,
      bytes: st.bytes,
      firstSeq: st.first_seq,
      lastSeq: st.last_seq,
      firstTimeMs: first,
      heldS: first === null ? null : Math.max(0, (nowMs - first) / 1000),
      maxBytes: Math.max(0, info.config.max_bytes),
      maxAgeMs: Math.max(0, Math.round(info.config.max_age / 1e6)),
      replicas: info.config.num_replicas,
    },
    nodes,
    consumers,
  };
}

/** The server sends `last_active` as an ISO time (the client's type says nanoseconds). */
function timeOf(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isFinite(t) && t > 0 ? t : null;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const timeText = (ms: number | null) =>
  ms === null
    ? '-'
    : new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, '');

function lagText(s: number | null): string {
  if (s === null) return '-';
  if (s < 60) return `${s.toFixed(1)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The status for people: the stream, a table of nodes (a silent one stands out) and one of consumers. */
export function renderStatus(status: ClusterStatus, color: boolean): string {
  const c = pc.createColors(color);
  const s = status.stream;
  if (!s.exists) return `stream ${s.name}: not created yet (no node has connected with --cluster)\n`;
  const out = [`stream ${c.bold(s.name)}: ${fmtInt(s.messages)} messages, ${fmtBytes(s.bytes)}${s.messages > 0 ? `, seq ${s.firstSeq}..${s.lastSeq}` : ''}`];
  if (s.maxBytes !== undefined && s.maxAgeMs !== undefined) {
    // How far back the stream reaches, beside its limits: what bounds a correlator's catch-up.
    const held = s.firstTimeMs === null || s.firstTimeMs === undefined ? '' : `holds since ${timeText(s.firstTimeMs)} (${lagText(s.heldS ?? null)}); `;
    const full = s.maxBytes > 0 && s.bytes >= 0.9 * s.maxBytes ? c.yellow(' (near its size limit: the oldest events are being dropped)') : '';
    out.push(`retention: ${held}limits ${limitsText({ maxBytes: s.maxBytes, maxAgeMs: s.maxAgeMs, replicas: s.replicas ?? 1 })}${full}`);
  }
  out.push('');
  if (status.nodes.length === 0) out.push('no node has published yet');
  else {
    const lagColour = (n: NodeStatus, text: string) => (n.lagS === null ? c.dim(text) : n.lagS > 60 ? c.red(text) : n.lagS > 10 ? c.yellow(text) : c.green(text));
    out.push(
      textTable(
        ['SITE', 'NODE', 'ROLE', 'LAST SUMMARY (UTC)', 'LAG', ...EVENT_KINDS.map((k) => k.toUpperCase())],
        status.nodes.map((n) => [n.site, n.node, n.role ?? c.dim('-'), timeText(n.lastSummaryMs), lagColour(n, lagText(n.lagS)), ...EVENT_KINDS.map((k) => fmtInt(n.kinds[k]))]),
      ),
    );
  }
  out.push('');
  if (status.consumers.length === 0) out.push('no consumer (no correlator has started)');
  else
    out.push(
      textTable(
        ['CONSUMER', 'PENDING', 'ACK PENDING', 'REDELIVERED', 'LAST ACTIVE (UTC)'],
        status.consumers.map((x) => [x.durable, x.pending > 0 ? c.yellow(fmtInt(x.pending)) : '0', fmtInt(x.ackPending), fmtInt(x.redelivered), timeText(x.lastActiveMs)]),
      ),
    );
  return `${out.join('\n')}\n`;
}
