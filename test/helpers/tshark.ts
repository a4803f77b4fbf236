/** Run tshark (an independent dissector) and collect per-frame fields for golden comparisons. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { before, describe, test } from 'node:test';
import type { PacketView } from '../../src/decode/view.js';
import { pcapFile } from './build.js';
import { decodeBytes, type TestFrame } from './frames.js';

export const SHARED = resolve(process.cwd(), '../shared');
export const CORPUS = join(SHARED, 'corpus/real');

export function corpusFiles(): string[] {
  const out: string[] = [];
  for (const dir of ['ddos', 'edge']) {
    for (const f of readdirSync(join(CORPUS, dir)).sort()) out.push(join(CORPUS, dir, f));
  }
  return out;
}

/**
 * One tshark pass: each row is the requested fields of one frame. Reassembly is turned off so
 * tshark, like us, reports every frame (first fragments keep their UDP/TCP header). Repeated
 * fields (headers quoted in ICMP errors, tunnels) come comma-joined, or only the first with 'f'.
 */
export function tsharkFields(file: string, fields: string[], extra: string[] = [], occurrence: 'a' | 'f' = 'a'): string[][] {
  const args = [
    '-r',
    file,
    '-n',
    '-o',
    'ip.defragment:FALSE',
    '-o',
    'ipv6.defragment:FALSE',
    '-o',
    'tcp.desegment_tcp_streams:FALSE',
    '-T',
    'fields',
    '-E',
    'separator=\t',
    '-E',
    `occurrence=${occurrence}`,
    '-E',
    'aggregator=,',
  ];
  for (const f of fields) args.push('-e', f);
  args.push(...extra);
  const text = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

/**
 * tshark's fields for frames built in a test: the frames go into one temporary pcap (one tshark
 * start per test file keeps the suite fast) and row i is frame i. 'frame.number' is always
 * requested first, so a frame whose other fields are all empty still has a row.
 */
export function tsharkOnFrames(frames: TestFrame[], fields: string[], linkType = 1, extra: string[] = []): Map<string, string>[] {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-frames-'));
  const file = join(dir, 'frames.pcap');
  try {
    const recs = frames.map((f, i) => ({ sec: 1_700_000_000 + i, frac: 0, data: f.data, wirelen: f.wirelen ?? f.data.length }));
    writeFileSync(file, pcapFile(recs, { linkType }));
    // Sequence analysis off: each frame is read on its own, whatever the neighbouring cases hold.
    const rows = tsharkFields(file, ['frame.number', ...fields], ['-o', 'tcp.analyze_sequence_numbers:FALSE', ...extra]);
    if (rows.length !== frames.length) throw new Error(`tshark returned ${rows.length} rows for ${frames.length} frames`);
    return rows.map((r) => new Map(fields.map((f, i) => [f, r[i + 1] ?? ''])));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The PacketView fields that hold a number or a boolean (what a case can state literally). */
export type ViewFields = { [K in keyof PacketView as PacketView[K] extends number | boolean ? K : never]?: PacketView[K] };

export interface DecodeCase {
  name: string;
  frame: TestFrame;
  /** What our decoder must put in the view, written out; `status` always stated. */
  view: ViewFields & { status: number };
  /** tshark's values of the listed fields for this frame ('' when tshark has no such field). */
  tshark: Record<string, string>;
  /** tshark fields where the view is known to read the frame differently, with the reason. */
  differs?: Record<string, string>;
}

/**
 * How a tshark field relates to the view, to check the two dissectors agree: the view's value
 * rendered as tshark prints it, or both sides reduced to what the view records (e.g. only the
 * top MPLS label and the stack depth).
 */
export type Agreement = Record<string, ((v: PacketView) => string) | { view: (v: PacketView) => string; tshark: (value: string) => string }>;

/**
 * Check each case twice: the decoder's view against the literal expectation, and tshark's
 * fields against the literal tshark line; then, for every tshark field with an agreement rule,
 * the view against tshark (unless the case lists the field in `differs`).
 */
export function decodeCases(title: string, cases: DecodeCase[], agree: Agreement, opts: { linkType?: number; tsharkArgs?: string[] } = {}): void {
  const linkType = opts.linkType ?? 1;
  describe(title, () => {
    let rows: Map<string, string>[] = [];
    before(() => {
      const fields = [...new Set(cases.flatMap((c) => Object.keys(c.tshark)))];
      rows = tsharkOnFrames(
        cases.map((c) => c.frame),
        fields,
        linkType,
        opts.tsharkArgs,
      );
    });
    cases.forEach((c, i) => {
      test(c.name, () => {
        const v = decodeBytes(c.frame, linkType);
        const got: Record<string, unknown> = {};
        for (const k of Object.keys(c.view)) got[k] = v[k as keyof PacketView];
        const row = rows[i] as Map<string, string>;
        const seen: Record<string, string> = {};
        for (const f of Object.keys(c.tshark)) seen[f] = row.get(f) ?? '';
        // One comparison, so a failure shows every wrong value of both lines at once.
        assert.deepEqual({ view: got, tshark: seen }, { view: c.view, tshark: c.tshark });
        for (const f of Object.keys(c.tshark)) {
          const rule = agree[f];
          if (rule === undefined) continue;
          const ours = typeof rule === 'function' ? rule(v) : rule.view(v);
          const theirs = typeof rule === 'function' ? (seen[f] as string) : rule.tshark(seen[f] as string);
          // A listed difference must still be one, so its stated reason stays true.
          if (c.differs?.[f] !== undefined) assert.notEqual(ours, theirs, `view differs from tshark on ${f}: ${c.differs[f]}`);
          else assert.equal(ours, theirs, `view agrees with tshark on ${f}`);
        }
      });
    });
  });
}

// ---- values rendered as tshark prints them (for agreement rules) -----------------------------

/** 0x-prefixed, zero-padded hex, as tshark prints ethertypes and flags. */
export function tsharkHex(n: number, digits: number): string {
  return `0x${n.toString(16).padStart(digits, '0')}`;
}

export function tsharkIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** 16 bytes at `off` in RFC 5952 form (longest run of zero groups, at least two, becomes '::'). */
export function tsharkIpv6(b: Uint8Array, off: number): string {
  if (off < 0) return '';
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(((b[off + 2 * i] as number) << 8) | (b[off + 2 * i + 1] as number));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j > i ? j : i + 1;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** tshark's expert messages (comma-joined): where it says what is wrong with a frame. */
export const EXPERT = '_ws.expert.message';

/** Set by tshark when the capture cut the frame short: "[Packet size limited during capture: X truncated]". */
export const SHORT = '_ws.short';
/** tshark's protocol chain ("eth:ethertype:ip:udp:data"): how far it decoded, the one-line summary of a case. */
export const LAYERS = 'frame.protocols';
