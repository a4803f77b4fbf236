/** `palisade rules check|test|fields`: the Rules language from the command line. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ExitCode, InputError, UsageError } from '../../core/errors.js';
import { compile } from '../../rules/compile.js';
import { runCases } from '../../rules/conformance.js';
import { formatRulesError, RulesError } from '../../rules/errors.js';
import { flowScheme } from '../../scheme/flow.js';
import { httpScheme } from '../../scheme/http.js';
import { packetScheme } from '../../scheme/packet.js';
import type { Scheme } from '../../scheme/types.js';

function schemeOf(name: string): Scheme<unknown> {
  if (name === 'packet') return packetScheme as Scheme<unknown>;
  if (name === 'http') return httpScheme as Scheme<unknown>;
  if (name === 'flow') return flowScheme as Scheme<unknown>;
  throw new UsageError(`rules: --scheme is packet, flow or http, not "${name}"`);
}

export function register(program: Command): void {
  const rules = program.command('rules').description('Check and test expressions of the Rules language (Cloudflare-compatible wirefilter syntax).');

  rules
    .command('check')
    .description('Compile an expression: prints "ok", or the error with a caret under the offending part (exit 1).')
    .argument('<expression>', "the rule expression, e.g. 'tcp.dstport == 22 and not ip.src in {10.0.0.0/8}'")
    .option('-s, --scheme <scheme>', 'field catalogue: packet, flow or http', 'packet')
    .addHelpText(
      'after',
      `
Examples:
  palisade rules check 'ip.proto == "udp" and udp.srcport in {53 123 1900} and ip.len > 1000'
  palisade rules check --scheme http 'http.request.uri.path matches "^/wp-login\\.php$"'`,
    )
    .action((expr: string, opts: { scheme: string }) => {
      const scheme = schemeOf(opts.scheme);
      try {
        compile(expr, scheme);
        process.stdout.write('ok\n');
      } catch (e) {
        if (!(e instanceof RulesError)) throw e;
        process.stderr.write(`${formatRulesError(expr, e)}\n`);
        process.exitCode = ExitCode.FOUND;
      }
    });

  rules
    .command('test')
    .description('Run Rules-language test vectors (JSONL): prints each failure and a final "N passed, M failed" line; exit 1 on any failure.')
    .argument('<file>', 'JSONL file of cases (format: ../shared/conformance/rules/README.md)')
    .action((file: string) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new InputError(`rules test: cannot read ${file}: ${(e as Error).message}`);
      }
      const results = runCases(text);
      let failed = 0;
      for (const r of results) {
        if (r.ok) continue;
        failed++;
        process.stdout.write(`FAIL ${r.id} (line ${r.line}): ${r.detail}\n`);
      }
      process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
      if (failed > 0) process.exitCode = ExitCode.FOUND;
    });

  rules
    .command('fields')
    .description('List the fields of a scheme with their types and meaning.')
    .option('-s, --scheme <scheme>', 'packet, flow or http', 'packet')
    .action((opts: { scheme: string }) => {
      const scheme = schemeOf(opts.scheme);
      const w = Math.max(...[...scheme.fields.keys()].map((k) => k.length));
      for (const f of scheme.fields.values()) process.stdout.write(`${f.name.padEnd(w)}  ${f.type.padEnd(18)}  ${f.doc}\n`);
    });
}
