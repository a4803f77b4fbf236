/**
 * `palisade` entry point: argument parsing and dispatch only. Each subcommand lives in
 * commands/<name>.ts and exports `register(program)`; add yours to COMMANDS below (its name as
 * typed, then its loader).
 *
 * Exit codes (documented in --help): 0 ok, 1 "found something" (failed tests, matches for
 * --fail-on), 2 usage error, 3 input unreadable, 70 internal error. Commands throw a
 * PalisadeError and reportError() below maps its code through ERROR_EXIT (core/errors.ts); a
 * command sets process.exitCode itself only for 1.
 */
import { Command, CommanderError } from 'commander';
import { caret } from '../core/caret.js';
import { ERROR_EXIT, type ErrorCode, ExitCode, exitCodeOf, PalisadeError } from '../core/errors.js';

type Registrar = (program: Command) => void;

/**
 * The subcommands, in the order --help lists them, each loaded only when needed: a command line
 * naming one loads that one alone (most of a command's start-up is loading modules: the WAF,
 * the store drivers, the mailer), --help and anything else load them all.
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<{ register: Registrar }>]> = [
  ['analyze', () => import('./commands/analyze.js')],
  ['collect', () => import('./commands/collect.js')],
  ['mitigate', () => import('./commands/mitigate.js')],
  ['export', () => import('./commands/export.js')],
  ['waf', () => import('./commands/waf.js')],
  ['report', () => import('./commands/report.js')],
  ['generate', () => import('./commands/generate.js')],
  ['rules', () => import('./commands/rules.js')],
  ['filter', () => import('./commands/filter.js')],
  ['compare', () => import('./commands/compare.js')],
  ['edge', () => import('./commands/edge.js')],
  ['monitor', () => import('./commands/monitor.js')],
  ['alerts', () => import('./commands/alerts.js')],
  ['incidents', () => import('./commands/incidents.js')],
  ['serve', () => import('./commands/serve.js')],
  ['correlate', () => import('./commands/correlate.js')],
  ['cluster', () => import('./commands/cluster.js')],
];

/** The registrars a command line needs: the one it names, or all of them. */
async function registrars(argv: readonly string[]): Promise<Registrar[]> {
  const named = COMMANDS.find(([name]) => name === argv[0]);
  const wanted = named !== undefined ? [named] : COMMANDS;
  return (await Promise.all(wanted.map(([, load]) => load()))).map((m) => m.register);
}

/** Codes whose span points into an expression: the CLI shows it with a caret under the span. */
const EXPRESSION_CODES: ReadonlySet<ErrorCode> = new Set(['E_RULE', 'E_UNSUPPORTED']);

/**
 * The CLI entry: parse, run the command, and turn whatever it throws into a message and an exit
 * code (the one place that does; commands only throw). Never rejects.
 */
export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  try {
    return await run(argv);
  } catch (err) {
    return reportError(err, argv);
  }
}

/** Parse and run one command line; returns the exit code a command set (0 if none) and throws what it throws. */
export async function run(argv: string[]): Promise<number> {
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
  for (const reg of await registrars(argv)) reg(program);
  await program.parseAsync(argv, { from: 'user' });
  return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.OK;
}

/**
 * Print a thrown value on stderr and return its exit code (ERROR_EXIT via exitCodeOf):
 * "palisade: <message>", with the expression and a caret under the span for errors about an
 * expression; anything that is not a PalisadeError is an internal error (70) and shows its stack.
 */
export function reportError(err: unknown, argv: string[] = []): number {
  if (err instanceof CommanderError) {
    // Commander has already printed its message (or the help).
    // No command at all: the help goes to stderr and it is a usage error (scripts notice).
    if (err.code === 'commander.help' && argv.length === 0) return ERROR_EXIT.E_USAGE;
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.OK;
    return ERROR_EXIT.E_USAGE;
  }
  // A reader that stops early (| head) closes the pipe: nobody wants the rest, not an error.
  if (isClosedPipe(err)) return ExitCode.OK;
  if (err instanceof PalisadeError) {
    const { span, source } = err;
    const shown = EXPRESSION_CODES.has(err.code) && span !== undefined && source !== undefined ? `\n${caret(source, span.start, span.end)}` : '';
    process.stderr.write(`palisade: ${err.message}${shown}\n`);
  } else {
    process.stderr.write(`palisade: internal error: ${(err as Error | undefined)?.stack ?? err}\n`);
  }
  return exitCodeOf(err);
}

function isClosedPipe(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'EPIPE';
}

let pipeWatched = false;

/**
 * `palisade analyze x.pcap | head -1`: once the reader has gone, a write to stdout fails with
 * EPIPE (asynchronously, as an 'error' event). Exit quietly then, as a filter in a pipe should;
 * any other write error stays an error.
 */
function quietOnClosedPipe(): void {
  if (pipeWatched) return;
  pipeWatched = true;
  process.stdout.on('error', (err) => {
    if (!isClosedPipe(err)) throw err;
    process.exit(ExitCode.OK);
  });
}
