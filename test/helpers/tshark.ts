/** Run tshark (an independent dissector) and collect per-frame fields for golden comparisons. */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

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
