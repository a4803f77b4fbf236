/**
 * Connections the transport answered before any request existed: a head that did not arrive in
 * time (slowloris: 408), one too large (431) or malformed (400), a TLS hello that never came.
 * nginx logs such a connection as a `"-" 408` line; the edge does the same, as an access-log
 * line and as a finished exchange the gate observes (metrics, live L7 protection), so the live
 * detector sees slowloris as `palisade analyze` sees it in a log. Nothing of it reached the origin.
 */
import type { HttpRequest } from '../model/http.js';
import type { HttpRequestView } from '../scheme/http.js';
import type { ConnInfo, EdgeCore } from './exchange.js';
import type { EdgeRequest, Outcome } from './gate.js';

/** The refusal's short name in the log's `edge.error`, by status. */
export function refusalName(status: number): string {
  return status === 408 ? 'header_timeout' : status === 431 ? 'header_too_large' : 'bad_request';
}

/**
 * Reports a refused connection: `status` answered (or, for a TLS hello that never came, the
 * connection closed), `id` the request id the answer carried. Waited since the connection was
 * admitted or its last exchange ended (`info.idleSince`).
 */
export function reportRefused(core: EdgeCore, info: ConnInfo, status: number, error: string, id: string): void {
  const g = core.gate;
  if (g.done === undefined && core.log === null) return;
  const nowMs = core.o.clock.nowMs();
  const waited = info.idleSince === undefined ? 0 : Math.max(0, performance.now() - info.idleSince);
  const startMs = nowMs - waited;
  const view: HttpRequestView = { method: '', target: '-', host: '', version: '', headers: [], clientIp: info.hopIp, ssl: info.ssl, timestampMs: startMs };
  if (info.ja3 !== undefined) view.ja3 = info.ja3;
  if (info.ja4 !== undefined) view.ja4 = info.ja4;
  const rec: HttpRequest = {
    time: new Date(startMs).toISOString(),
    client: { ip: info.hopIp, port: info.hopPort },
    method: '-',
    host: '',
    path: '-',
    query: '',
    version: 'HTTP/1.1',
    headers: [],
    body_size: 0,
    status,
    response_size: 0,
    duration_ms: Math.round(waited * 1000) / 1000,
    edge: { request_id: id, action: 'error', rule_ids: [], error },
  };
  const req: EdgeRequest = { id, view, clientIp: info.hopIp, peerIp: info.peerIp, headerOrder: [], ruleIds: [], record: () => rec };
  const out: Outcome = { status, by: 'transport', bytesIn: 0, bytesOut: 0, durationMs: waited, error };
  if (g.done !== undefined) {
    try {
      g.done(req, out);
    } catch (e) {
      core.o.log(`edge: gate.done failed on refused connection ${id}: ${(e as Error).message}`);
    }
  }
  core.log?.write(rec);
}
