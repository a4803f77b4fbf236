/**
 * `palisade` entry point: argument parsing and dispatch only. Each subcommand lives in
 * commands/<name>.ts and exports `register(program)`; add yours to COMMANDS below.
 *
 * Exit codes (documented in --help): 0 ok, 1 "found something" (failed tests, matches for
 * --fail-on), 2 usage error, 3 input unreadable, 70 internal error.
 */
import { Command, CommanderError } from 'commander';
import { ExitCode, InputError, UsageError } from '../core/errors.js';
import { register as analyze } from './commands/analyze.js';
import { register as exportCmd } from './commands/export.js';
import { register as filter } from './commands/filter.js';
import { register as generateCmd } from './commands/generate.js';
import { register as mitigate } from './commands/mitigate.js';
import { register as report } from './commands/report.js';
import { register as rules } from './commands/rules.js';
import { register as waf } from './commands/waf.js';

type Registrar = (program: Command) => void;

const COMMANDS: Registrar[] = [analyze, mitigate, exportCmd, waf, report, generateCmd, rules, filter];

export async function main(argv: string[]): Promise<number> {
  const program = new Command('palisade')
    .description('Palisade: see, identify, tell good from bad, and mitigate L3/L4/L7 attacks.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok; 1 a check failed (tests failed, alerts raised); 2 usage error;
3 input unreadable (missing file, not a capture); 70 internal error.

Examples:
  palisade analyze capture.pcap
  tcpdump -i eth0 -w - | palisade analyze -
  palisade analyze attack.pcapng.gz --json > analysis.json`,
    );
  for (const reg of COMMANDS) reg(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // No command at all: the help goes to stderr and it is a usage error (scripts notice).
      if (err.code === 'commander.help' && argv.length === 0) return ExitCode.USAGE;
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.OK;
      return ExitCode.USAGE;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`palisade: ${err.message}\n`);
      return ExitCode.USAGE;
    }
    if (err instanceof InputError) {
      process.stderr.write(`palisade: ${err.message}\n`);
      return ExitCode.INPUT;
    }
    throw err;
  }
}
