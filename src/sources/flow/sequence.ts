/**
 * Sequence numbers → loss. Each protocol counts in its own unit: NetFlow v5 flows, NetFlow v9
 * export packets, IPFIX data records, sFlow datagrams (and samples per source). The state is the
 * number the next datagram should carry; a datagram's own count moves it on.
 *
 * Unsigned 32-bit arithmetic: a gap is (seen - expected) mod 2^32. Small backwards steps are UDP
 * reordering or duplicates (counted, the expectation kept); a jump forward larger than MAX_GAP or a
 * big step back is an exporter restart (counted, counting restarts from the new number) rather
 * than billions of lost records.
 */

/** Gaps above this are taken for a restart, not loss. */
export const MAX_GAP = 1_000_000;
/** A step back at most this far is reordering. */
const MAX_REORDER = 1000;

export interface SequenceState {
  seqKnown: boolean;
  nextSeq: number;
}

/** Outcome of one check: the units lost (≥ 0), or -1 reordered, -2 reset. */
export function sequenceGap(s: SequenceState, seq: number): number {
  if (!s.seqKnown) return 0;
  const gap = (seq - s.nextSeq) >>> 0;
  if (gap === 0) return 0;
  if (gap <= MAX_GAP) return gap;
  const back = (s.nextSeq - seq) >>> 0;
  if (back <= MAX_REORDER) return -1;
  return -2;
}

/**
 * Expect `seq + advance` next. `advance` < 0 means the count is unknown (an IPFIX message with a
 * data set held for its template): the next datagram starts counting afresh.
 */
export function sequenceAdvance(s: SequenceState, seq: number, advance: number): void {
  if (advance < 0) {
    s.seqKnown = false;
    return;
  }
  s.seqKnown = true;
  s.nextSeq = (seq + advance) >>> 0;
}

/** IPFIX sequence state: the previous message's number and record counts, and the counting convention. */
export interface IpfixSequenceState extends SequenceState {
  prevSeq: number;
  prevAll: number;
  prevFlow: number;
  /** Bit m-1 set while convention m (see ipfixExpected) still fits every step seen; starts at ALL_MODES. */
  seqModes: number;
}

export const ALL_MODES = 15;

/**
 * The number this message should carry under each convention. RFC 7011 §3.1 counts every data
 * record (options data included) sent BEFORE the message (mode 1). softflowd 1.1.0 counts only
 * flow records, including this message's (mode 4); the other two mixes are accepted too.
 */
function ipfixExpected(s: IpfixSequenceState, mode: number, all: number, flow: number): number {
  switch (mode) {
    case 1:
      return (s.prevSeq + s.prevAll) >>> 0;
    case 2:
      return (s.prevSeq + all) >>> 0;
    case 3:
      return (s.prevSeq + s.prevFlow) >>> 0;
    default:
      return (s.prevSeq + flow) >>> 0;
  }
}

/**
 * IPFIX, checked once the message's record counts are known (all data records, and flow records
 * alone). The conventions that fit each gap-free step are kept; a step no surviving convention
 * fits is a gap, measured by the first of them (RFC 7011's when it is still in). Returns what
 * sequenceGap returns.
 */
export function ipfixSequence(s: IpfixSequenceState, seq: number, all: number, flow: number): number {
  let gap = 0;
  if (s.seqKnown) {
    let fits = 0;
    let first = 0;
    for (let m = 1; m <= 4; m++) {
      if ((s.seqModes & (1 << (m - 1))) === 0) continue;
      if (first === 0) first = m;
      if (ipfixExpected(s, m, all, flow) === seq) fits |= 1 << (m - 1);
    }
    if (fits !== 0) s.seqModes = fits;
    else {
      s.nextSeq = ipfixExpected(s, first === 0 ? 1 : first, all, flow);
      gap = sequenceGap(s, seq);
    }
  }
  if (gap !== -1) {
    s.seqKnown = true;
    s.prevSeq = seq;
    s.prevAll = all;
    s.prevFlow = flow;
  }
  return gap;
}
