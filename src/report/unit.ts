/**
 * What a report counts: packets (captures, flows) or requests (access logs). Every renderer and
 * the summary word their figures from this, so an L7 report never speaks of packets or bits.
 */
import type { Analysis } from '../model/analysis.js';
import type { Attack } from '../model/attack.js';

export interface Unit {
  /** `packet` or `request`. */
  one: string;
  many: string;
  /** Whether bytes and bit rates mean anything (not for access logs). */
  bytes: boolean;
}

export const PACKETS: Unit = { one: 'packet', many: 'packets', bytes: true };
export const REQUESTS: Unit = { one: 'request', many: 'requests', bytes: false };

/** An analysis of an access log counts requests. */
export function unitOf(a: Analysis): Unit {
  return a.capture.format === 'access_log' ? REQUESTS : PACKETS;
}

/** An L7 attack (found in a log or in a capture's HTTP) counts requests. */
export function attackUnit(x: Attack): Unit {
  return x.requests !== undefined ? REQUESTS : PACKETS;
}

/** `1 request`, `2,000 packets`. */
export function countText(n: number, u: Unit): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? u.one : u.many}`;
}
