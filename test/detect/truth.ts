/**
 * Scoring against the generator's ground truth, independently of what the detector reports:
 * run a signature (compiled by the Rules engine) over the capture and compare with the labels.
 */

import { readFileSync } from 'node:fs';
import { analyzeCapture } from '../../src/analyze/run.js';
import { generate, type Truth, truthLabels } from '../../src/generate/generator.js';
import type { Attack } from '../../src/model/attack.js';
import { compile } from '../../src/rules/compile.js';
import { packetScheme } from '../../src/scheme/packet.js';
import { readCapture } from '../../src/sources/capture/capture.js';

export interface Score {
  coverage: number;
  collateral: number;
}

/** Coverage of attack `label` and collateral on benign packets (label 0) of an expression. */
export async function score(pcap: string, truth: Truth, expression: string, label: number, lists?: Record<string, string[]>): Promise<Score> {
  const labels = truthLabels(truth);
  const named = lists ? Object.fromEntries(Object.entries(lists).map(([k, items]) => [k, { kind: 'ip' as const, items }])) : undefined;
  const test = compile(expression, packetScheme, named ? { lists: named } : {});
  let i = 0;
  let hitA = 0;
  let nA = 0;
  let hitB = 0;
  let nB = 0;
  await readCapture(pcap, (v) => {
    const l = labels[i++] as number;
    const m = test(v);
    if (l === label) {
      nA++;
      if (m) hitA++;
    } else if (l === 0) {
      nB++;
      if (m) hitB++;
    }
  });
  return { coverage: nA === 0 ? 0 : hitA / nA, collateral: nB === 0 ? 0 : hitB / nB };
}

/** What `analyze --json` prints for a capture (the library call behind it, in this process). */
export async function analyzeJson(pcap: string): Promise<{ attacks: Attack[] }> {
  return JSON.parse(JSON.stringify(await analyzeCapture(pcap)));
}

export function makeScenario(name: string, file: string, packets: number, seed: number): Truth {
  generate(name, file, { packets, seed });
  return JSON.parse(readFileSync(file.replace(/\.pcap$/, '.truth.json'), 'utf8')) as Truth;
}

export function ms(iso: string): number {
  return Date.parse(iso.replace(/(\.\d{3})\d*Z$/, '$1Z'));
}
