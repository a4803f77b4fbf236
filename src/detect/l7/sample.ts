/**
 * Bounded samples of requests, materialised (strings) only for the records a reservoir keeps:
 * the signature search reads them, the per-record path never does. Reservoirs use Algorithm R
 * with a seeded xorshift, so a run is reproducible.
 */
import { type HttpLogView, Slot } from '../../sources/accesslog/view.js';
import { detach } from './features.js';

/** One sampled request, as the signature search sees it. */
export interface Row {
  timeMs: number;
  ip: string;
  ipKey: number;
  fam: number;
  host: string;
  method: string;
  path: string;
  query: string;
  version: string;
  ua: string;
  referer: string;
  cookie: boolean;
  status: number;
  ja3: string;
  ja4: string;
}

/** A slot's text to keep: '' when not logged, detached from the line (features.ts detach). */
const s = (v: string | undefined): string => (v === undefined || v === '-' ? '' : detach(v));

export function materialise(v: HttpLogView, ipKey: number, fam: number): Row {
  let cookie = s(v.get(Slot.COOKIE)) !== '';
  if (!cookie && v.cookies !== null) for (const _ in v.cookies) cookie = true;
  return {
    timeMs: v.timeMs,
    ip: s(v.get(Slot.CLIENT)),
    ipKey,
    fam,
    host: s(v.get(Slot.HOST)).toLowerCase(),
    method: v.requestOk ? s(v.get(Slot.METHOD)) : '',
    path: s(v.get(Slot.PATH)),
    query: s(v.get(Slot.QUERY)),
    version: v.version === 10 ? 'HTTP/1.0' : v.version === 11 ? 'HTTP/1.1' : v.version === 20 ? 'HTTP/2' : v.version === 30 ? 'HTTP/3' : '',
    ua: s(v.get(Slot.USER_AGENT)),
    referer: s(v.get(Slot.REFERER)),
    cookie,
    status: v.status,
    ja3: s(v.get(Slot.JA3)),
    ja4: s(v.get(Slot.JA4)),
  };
}

/** xorshift32 in [0, 1). */
export class Rand {
  private x: number;
  constructor(seed = 0x2545f491) {
    this.x = seed | 0 || 1;
  }
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x;
    return (x >>> 0) / 4294967296;
  }
}

/** A uniform sample of at most `size` rows of everything offered (Algorithm R). */
export class Reservoir {
  readonly rows: Row[] = [];
  seen = 0;
  constructor(
    readonly size: number,
    private readonly rand: Rand,
  ) {}

  /** Will the next offer be kept? Ask first, so a record is materialised only when it is. */
  wants(): number {
    const n = this.seen++;
    if (n < this.size) return n;
    const j = Math.floor(this.rand.next() * (n + 1));
    return j < this.size ? j : -1;
  }

  put(at: number, r: Row): void {
    this.rows[at] = r;
  }
}
