/**
 * `palisade generate SCENARIO --packets N --seed S -w OUT.pcap`: labelled synthetic captures.
 * The `http-*` scenarios write an access log instead (OUT.log in nginx format, OUT.jsonl as
 * HttpRequest records, OUT.truth.json), with N lines.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { L7_SCENARIOS } from '../../generate/l7/scenarios.js';
import { SCENARIOS } from '../../generate/scenarios.js';
import { intOption } from '../options.js';

/** The generator's PRNG takes a 32-bit seed: a larger one would give the file of a smaller one. */
const SEED_MAX = 0xffffffff;

export function register(program: Command): void {
  program
    .command('generate')
    .description('Write a deterministic, labelled scenario capture (pcap) and its ground truth (.truth.json).')
    .argument('[scenario]', 'scenario name (see --list)')
    .option('--list', 'list the scenarios')
    .option('-n, --packets <n>', 'number of packets (log lines for http-* scenarios)', intOption('--packets', { min: 1 }), 20000)
    .option('-s, --seed <n>', 'seed: the same seed gives a byte-identical file', intOption('--seed', { min: 0, max: SEED_MAX }), 1)
    .option('-w, --write <file>', 'output capture (classic pcap), or OUT.log for http-* scenarios')
    .option('--micro', 'microsecond timestamps (default: nanosecond)')
    .option('--no-truth', 'do not write the .truth.json file')
    .option('--no-json', 'http-* scenarios: do not write the .jsonl file')
    .addHelpText('after', '\nExample:\n  palisade generate demo --packets 20000 --seed 1 -w demo/demo.pcap')
    .action(
      async (
        scenario: string | undefined,
        o: {
          list?: boolean;
          packets: number;
          seed: number;
          write?: string;
          micro?: boolean;
          truth: boolean;
          json: boolean;
        },
      ) => {
        if (o.list) {
          const all = [...SCENARIOS, ...L7_SCENARIOS];
          const w = Math.max(...all.map((s) => s.name.length));
          for (const s of all) process.stdout.write(`${s.name.padEnd(w)}  ${s.description}\n`);
          return;
        }
        if (!scenario) throw new UsageError('generate: missing scenario (palisade generate --list shows them)');
        if (L7_SCENARIOS.some((s) => s.name === scenario)) {
          if (!o.write) throw new UsageError('generate: missing -w OUT.log');
          mkdirSync(dirname(o.write), { recursive: true });
          const { generateL7, l7Paths } = await import('../../generate/l7/generator.js');
          const truth = generateL7(scenario, o.write, { lines: o.packets, seed: o.seed, noTruth: !o.truth, noJson: !o.json });
          const paths = l7Paths(o.write);
          const attacks = truth.attacks.map((a) => `${a.vector}→${a.victim.host} (${a.ips.length} IPs)`).join(', ');
          process.stderr.write(
            `${o.write}${o.json ? `, ${paths.jsonl}` : ''}: ${truth.lines} lines, ${truth.attacks.length} attack(s)${attacks ? `: ${attacks}` : ''}${o.truth ? `; truth in ${paths.truth}` : ''}\n`,
          );
          return;
        }
        if (!SCENARIOS.some((s) => s.name === scenario)) throw new UsageError(`generate: unknown scenario "${scenario}" (palisade generate --list shows them)`);
        if (!o.write) throw new UsageError('generate: missing -w OUT.pcap');
        mkdirSync(dirname(o.write), { recursive: true });
        // The generator is loaded when it runs, not at every command's start-up.
        const { generate, truthPath } = await import('../../generate/generator.js');
        const truth = generate(scenario, o.write, {
          packets: o.packets,
          seed: o.seed,
          micro: o.micro === true,
          noTruth: !o.truth,
        });
        const attacks = truth.attacks.map((a) => `${a.vector}→${a.victim.ip ?? a.victim.prefix}`).join(', ');
        process.stderr.write(
          `${o.write}: ${truth.packets} packets, ${truth.attacks.length} attack(s)${attacks ? `: ${attacks}` : ''}${o.truth ? `; truth in ${truthPath(o.write)}` : ''}\n`,
        );
      },
    );
}
