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

/**
 * A sampled request kept as its line (detached), to be made a Row once reading is over
 * (Reservoir.resolve): a line is one string, a Row a dozen, and most sampled requests are
 * replaced before the end (117 k rows made for 2 M lines, a fifth of them kept).
 */
export interface LineRow {
  line: string;
  fileIndex: number;
  ipKey: number;
  fam: number;
}

export function lineRow(v: HttpLogView, ipKey: number, fam: number): LineRow {
  return { line: detach(v.line), fileIndex: v.fileIndex, ipKey, fam };
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

  /**
   * Math.floor(next() * n), the same draw (the same arithmetic): what a reservoir asks per record.
   * The fraction stays inside (a double returned from a call that is not inlined is boxed).
   */
  below(n: number): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x;
    return Math.floor(((x >>> 0) / 4294967296) * n);
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
    const j = this.rand.below(n + 1);
    return j < this.size ? j : -1;
  }

  put(at: number, r: Row): void {
    this.rows[at] = r;
    if (this.lines !== null) this.lines[at] = undefined;
  }

  /** Lines kept by putLine, not yet rows (null: none ever). */
  private lines: Array<LineRow | undefined> | null = null;

  putLine(at: number, r: LineRow): void {
    (this.lines ??= [])[at] = r;
    this.rows[at] = undefined as unknown as Row;
  }

  /**
   * Make rows of the kept lines (read again by `parse`; one row per LineRow, shared as the
   * LineRow was, through `made`). A line that no longer parses leaves no row.
   */
  resolve(parse: (line: string, fileIndex: number) => HttpLogView | null, made: Map<LineRow, Row | null>): void {
    const lines = this.lines;
    if (lines === null) return;
    for (let i = 0; i < lines.length; i++) {
      const lr = lines[i];
      if (lr === undefined) continue;
      let r = made.get(lr);
      if (r === undefined) {
        const v = parse(lr.line, lr.fileIndex);
        r = v === null ? null : materialise(v, lr.ipKey, lr.fam);
        made.set(lr, r);
      }
      if (r !== null) this.rows[i] = r;
    }
    this.lines = null;
  }
}
