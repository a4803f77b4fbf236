/**
 * Fused predicates (one generated function per rule, compile.ts) decide exactly what the closure
 * tree decides, packet for packet, over every capture of the corpus: the filters that exist in
 * both Rules and Wireshark, and and/or/not combinations of them (the shapes that are fused).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PacketView } from '../../src/decode/view.js';
import { compile } from '../../src/rules/compile.js';
import { packetScheme } from '../../src/scheme/packet.js';
import { readCapture } from '../../src/sources/capture/capture.js';
import { CORPUS } from '../helpers/tshark.js';
import { FILTER_PAIRS } from './tshark-filters.js';

const singles = FILTER_PAIRS.map(([rules]) => rules);
const combos: string[] = [];
for (let i = 0; i < singles.length; i++) {
  const a = singles[i] as string;
  const b = singles[(i * 7 + 3) % singles.length] as string;
  const c = singles[(i * 11 + 5) % singles.length] as string;
  combos.push(`(${a}) and (${b})`, `(${a}) or not (${b})`, `not ((${a}) and (${b})) or (${c})`, `(${a}) and ip.dst != 203.0.113.10 and ip.len >= 40`);
}
const EXPRS = [...singles, ...combos];

test(`fused and closure-tree predicates agree on every corpus packet (${EXPRS.length} expressions)`, async () => {
  const pairs = EXPRS.map((e) => [e, compile(e, packetScheme), compile(e, packetScheme, { fuse: false })] as const);
  let packets = 0;
  let matched = 0;
  for (const sub of ['ddos', 'edge']) {
    for (const f of readdirSync(join(CORPUS, sub)).sort()) {
      await readCapture(join(CORPUS, sub, f), (v: PacketView) => {
        packets++;
        for (const [e, fused, tree] of pairs) {
          const got = fused(v);
          if (got !== tree(v)) assert.fail(`${sub}/${f} packet ${packets}: fused ${got}, closures ${!got} for ${e}`);
          if (got) matched++;
        }
      });
    }
  }
  assert.ok(packets > 10_000, `${packets} packets`);
  // Not vacuous: a good share of the (expression, packet) pairs match.
  assert.ok(matched > packets, `${matched} matches`);
});
