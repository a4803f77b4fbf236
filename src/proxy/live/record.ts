/**
 * One finished exchange of the edge as the L7 detector's input: the access-log readers' reused
 * HttpLogView (sources/accesslog/view.ts), filled from the EdgeRequest and its Outcome the way
 * the JSON reader fills it from the edge's own log line (json-format.ts mapPalisade), so the live
 * detector sees what `palisade analyze edge.log` would see. No line: every slot is a string.
 *
 * The time is the caller's clock at the end of the exchange (injected: tests and replays drive it).
 */
import { type HttpLogView, Slot, versionCode } from '../../sources/accesslog/view.js';
import type { EdgeRequest, Outcome } from '../gate.js';
import { headerOf } from '../phases/headers.js';

/** Fill `v` (reset) with the exchange at time `timeMs`. */
export function fillLogView(v: HttpLogView, req: EdgeRequest, outcome: Outcome, timeMs: number): HttpLogView {
  const r = req.view;
  v.reset('');
  // The edge's strings are byte strings (one char per byte), as a text log's are.
  v.latin1 = true;
  v.timeMs = timeMs;
  v.setStr(Slot.CLIENT, req.clientIp);
  if (req.peerIp !== req.clientIp) v.setStr(Slot.VIA, req.peerIp);
  v.setStr(Slot.METHOD, r.method);
  v.requestOk = r.method !== '';
  if (r.host !== '') v.setStr(Slot.HOST, r.host);
  let path = r.path;
  let query = r.query;
  if (path === undefined) {
    const t = r.target;
    const q = t.indexOf('?');
    path = q < 0 ? t : t.slice(0, q);
    if (q >= 0) query = t.slice(q + 1);
  }
  v.setStr(Slot.PATH, path);
  if (query !== undefined && query !== '') v.setStr(Slot.QUERY, query);
  v.version = r.version === '' ? -1 : versionCode(r.version, 0, r.version.length);
  const ua = headerOf(r, 'user-agent');
  if (ua !== undefined && ua !== '') v.setStr(Slot.USER_AGENT, ua);
  const ref = headerOf(r, 'referer');
  if (ref !== undefined && ref !== '') v.setStr(Slot.REFERER, ref);
  const ck = headerOf(r, 'cookie');
  if (ck !== undefined && ck !== '') v.setStr(Slot.COOKIE, ck);
  if (r.ja3 !== undefined && r.ja3 !== '') v.setStr(Slot.JA3, r.ja3);
  if (r.ja4 !== undefined && r.ja4 !== '') v.setStr(Slot.JA4, r.ja4);
  v.status = outcome.status;
  v.durationMs = outcome.durationMs;
  if (outcome.originMs !== undefined) v.originMs = outcome.originMs;
  v.responseSize = outcome.bytesOut;
  v.bodySize = outcome.bytesIn;
  if (req.challenge !== undefined) v.challenge = req.challenge;
  return v;
}
