/**
 * The plain-language summary at the top of a report: what happened, when (UTC and the
 * customer's zone), how big (peak pps and bps), how long, what share of the traffic it was, and
 * what Palisade produced against it. Numbers are kept raw beside the sentences so renderers can
 * show both and tests can compare them with the analysis.
 */
import type { Analysis } from '../model/analysis.js';
import { fmtBits, fmtInt, fmtUtc, fmtZoned, isoSeconds, pct, vectorName, victimText } from './format.js';
import type { Effectiveness } from './replay.js';
import { REQUESTS, unitOf } from './unit.js';

export interface Summary {
  attacks: number;
  /** One sentence: what hit whom. */
  what: string;
  /** Earliest start and latest end over all attacks (or the capture when there are none). */
  start: string | null;
  end: string | null;
  when_utc: string;
  when_local: string | null;
  duration_s: number;
  /** Largest per-attack peak; the capture's 1 s peak when there are no attacks. */
  peak_pps: number;
  peak_bps: number;
  attack_packets: number;
  attack_bytes: number;
  /** Share of the capture's packets that belonged to attacks. */
  attack_share: number;
  effect: string;
  done: string;
}

export function summarize(a: Analysis, effects: Effectiveness[], tz?: string): Summary {
  const atk = a.attacks;
  const cap = a.capture;
  const u = unitOf(a);
  const what_ = u === REQUESTS ? 'log' : 'capture';
  const rateText = (n: number, bps: number) => `${fmtInt(n)} ${u.many}/s${u.bytes ? ` and ${fmtBits(bps)}` : ''}`;
  const span = (from: string | null, to: string | null) => {
    if (!from || !to)
      return {
        utc: `unknown (the ${what_} holds no ${u.many})`,
        local: null as string | null,
      };
    return {
      utc: `${fmtUtc(from)} to ${fmtUtc(to)}`,
      local: tz ? `${fmtZoned(from, tz)} to ${fmtZoned(to, tz)}` : null,
    };
  };
  if (atk.length === 0) {
    const w = span(cap.start, cap.end);
    return {
      attacks: 0,
      what: `No attack was detected in this ${what_} (${fmtInt(cap.packets)} ${u.many}).`,
      start: cap.start,
      end: cap.end,
      when_utc: w.utc,
      when_local: w.local,
      duration_s: cap.duration_s,
      peak_pps: a.traffic.peak.pps_1s,
      peak_bps: a.traffic.peak.bps_1s,
      attack_packets: 0,
      attack_bytes: 0,
      attack_share: 0,
      effect: `Traffic peaked at ${rateText(a.traffic.peak.pps_1s, a.traffic.peak.bps_1s)} over one second.`,
      done: 'No mitigation was needed.',
    };
  }
  let start = atk[0]?.start as string;
  let end = atk[0]?.end as string;
  let peakPps = 0;
  let peakBps = 0;
  let packets = 0;
  let bytes = 0;
  for (const x of atk) {
    if (isoSeconds(x.start) < isoSeconds(start)) start = x.start;
    if (isoSeconds(x.end) > isoSeconds(end)) end = x.end;
    peakPps = Math.max(peakPps, x.peak_pps);
    peakBps = Math.max(peakBps, x.peak_bps);
    packets += x.packets;
    bytes += x.bytes;
  }
  const kinds = atk.map((x) => `${vectorName(x.vector)} against ${victimText(x.victim)}`);
  const uniqueKinds = [...new Set(kinds)];
  const what =
    atk.length === 1
      ? `One attack: a ${uniqueKinds[0]}.`
      : `${atk.length} attacks: ${uniqueKinds.slice(0, 5).join('; ')}${uniqueKinds.length > 5 ? `; and ${uniqueKinds.length - 5} more` : ''}.`;
  const w = span(start, end);
  const duration = Math.max(0, isoSeconds(end) - isoSeconds(start));
  const share = cap.packets === 0 ? 0 : Math.min(1, packets / cap.packets);
  const spoofed = atk.filter((x) => x.sources.spoofed_likely).length;
  const sources = atk.reduce((n, x) => n + x.sources.unique, 0);
  const effect =
    `Attack traffic was ${fmtInt(packets)} of the ${fmtInt(cap.packets)} ${u.many} ${u === REQUESTS ? 'logged' : 'captured'} (${pct(share)}), peaking at ` +
    `${rateText(peakPps, peakBps)}, from ${fmtInt(sources)} source address${sources === 1 ? '' : 'es'}` +
    (spoofed === atk.length ? ', most likely spoofed.' : spoofed > 0 ? ` (${spoofed} of the attacks from likely spoofed addresses).` : '.');
  const measured = effects.filter((e) => e.method !== 'signature');
  const estimated = effects.filter((e) => e.method === 'signature');
  const all = measured.length === effects.length;
  let done =
    u === REQUESTS
      ? `Palisade derived a request signature for ${atk.length === 1 ? 'the attack' : 'each attack'} and generated a custom rule, a rate-limiting rule and block lists (Rules language, Cloudflare, nftables, iptables).`
      : `Palisade derived a traffic signature for ${atk.length === 1 ? 'the attack' : 'each attack'} and generated blocking rules (Rules language, nftables, iptables).`;
  if (measured.length > 0) {
    const aTot = measured.reduce((n, e) => n + (e.attack_packets ?? 0), 0);
    const aDrop = measured.reduce((n, e) => n + (e.attack_dropped_packets ?? 0), 0);
    const worstLegit = Math.max(...measured.map((e) => e.legit_dropped));
    const scored = measured.every((e) => e.method === 'truth') ? ' and scored against its ground truth' : '';
    const which = all ? 'the rules' : `the rules of ${measured.length} of the ${effects.length} attacks`;
    done += ` Replayed over this ${what_}${scored}, ${which} would ${u === REQUESTS ? 'block' : 'drop'} ${pct(aTot === 0 ? 0 : aDrop / aTot)} of ${all ? 'the' : 'their'} attack ${u.many} and at most ${pct(worstLegit, 2)} of the legitimate ${u.many}.`;
  }
  if (estimated.length > 0) {
    const cov = Math.min(...estimated.map((e) => e.attack_dropped));
    const col = Math.max(...estimated.map((e) => e.legit_dropped));
    const which = estimated.length === effects.length ? 'the rules' : `those of the other ${estimated.length}`;
    done += ` By their signatures, ${which} match at least ${pct(cov)} of the attack ${u.many} and at most ${pct(col, 2)} of other traffic (an estimate: not measured on the ${what_}).`;
  }
  return {
    attacks: atk.length,
    what,
    start,
    end,
    when_utc: w.utc,
    when_local: w.local,
    duration_s: duration,
    peak_pps: peakPps,
    peak_bps: peakBps,
    attack_packets: packets,
    attack_bytes: bytes,
    attack_share: share,
    effect,
    done,
  };
}
