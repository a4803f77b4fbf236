/** `palisade export --to TARGET RULESET`: a ruleset as nftables, iptables+ipset, Flowspec or Cloudflare JSON. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ExitCode, UsageError } from '../../core/errors.js';
import { exportRuleset, formatProblem, TARGETS, type Target } from '../../export/index.js';
import { exportL7Attacks, isL7Attack } from '../../export/l7.js';
import { loadRuleset } from '../../mitigate/ruleset.js';
import type { Analysis } from '../../model/analysis.js';

/** The file is an analysis (`palisade analyze --json`), not a ruleset: its L7 attacks are exported. */
function readAnalysisIfOne(file: string): Analysis | null {
  if (file === '-') return null;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null; // loadRuleset says what is wrong with the path
  }
  if (!/^\s*\{/.test(text)) return null;
  try {
    const o = JSON.parse(text) as Partial<Analysis>;
    return Array.isArray(o.attacks) && typeof o.capture === 'object' ? (o as Analysis) : null;
  } catch {
    return null;
  }
}

interface Opts {
  to?: string;
  hook?: string;
  device?: string;
  table?: string;
  phase?: string;
  output?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('Translate a ruleset for the kernel (nftables, iptables+ipset), an upstream router (BGP Flowspec via ExaBGP) or Cloudflare (Rulesets API JSON).')
    .argument('<ruleset>', 'ruleset file (YAML or JSON), or an analysis (palisade analyze --json) whose L7 attacks to export')
    .option('-t, --to <target>', `one of ${TARGETS.join(', ')}`)
    .option('--hook <hook>', 'nftables: prerouting (default), input, forward or ingress; iptables: built-in chain to jump from')
    .option('--device <dev>', 'nftables ingress hook: the interface')
    .option('--table <name>', 'nftables table name (default palisade); iptables table raw (default), mangle or filter')
    .option('--phase <phase>', 'cloudflare: magic, waf or both (default both)', 'both')
    .option('-o, --output <file>', 'write the output to a file instead of stdout')
    .option('--json', 'print { target, text, problems } as JSON')
    .addHelpText(
      'after',
      `
Whatever a target cannot express is reported on stderr with the rule, the reason and a caret
under the part of the expression; that rule is left out whole (never narrowed or widened), and
the exit code is 1. Exit 0 means every enabled rule and list was exported.

Examples:
  palisade export --to nftables edge.yaml > edge.nft && nft -c -f edge.nft
  palisade export --to nftables --hook ingress --device eth0 edge.yaml
  palisade export --to iptables edge.yaml | sh
  palisade export --to flowspec edge.yaml
  palisade export --to cloudflare --phase magic edge.yaml --json
  palisade analyze access.log --json > a.json && palisade export --to cloudflare a.json

From an analysis, each L7 attack (http_flood, credential_stuffing, scanner, slowloris) goes to
Cloudflare whole: an IP List of its sources, its custom rule (phase http_request_firewall_custom)
and its rate-limiting rule (phase http_ratelimit). nftables, iptables and Flowspec cannot read
HTTP: they get a block rule on the same address list. Packet attacks carry their own rules in
the analysis (mitigation.ruleset, .nftables, .iptables).`,
    )
    .action((file: string, opts: Opts) => {
      if (!opts.to || !(TARGETS as readonly string[]).includes(opts.to)) throw new UsageError(`export: --to must be one of ${TARGETS.join(', ')}`);
      const target = opts.to as Target;
      const analysis = readAnalysisIfOne(file);
      if (analysis !== null) {
        const l7 = analysis.attacks.filter(isL7Attack);
        const others = analysis.attacks.length - l7.length;
        if (others > 0) process.stderr.write(`palisade: ${others} packet attack(s) in ${file}: their rules are in the analysis (attacks[].mitigation)\n`);
        if (l7.length === 0) throw new UsageError(`export: ${file} is an analysis with no L7 attack; give a ruleset file`);
        const out = exportL7Attacks(l7, target, { cloudflare: {}, nftables: { table: opts.table } });
        const body = opts.json ? `${JSON.stringify({ target, text: out.text, problems: out.problems }, null, 2)}\n` : out.text;
        if (opts.output) writeFileSync(opts.output, body);
        else process.stdout.write(body);
        for (const p of out.problems) process.stderr.write(`palisade: not exported: ${p.rule}: ${p.reason}\n`);
        if (out.problems.length > 0) process.exitCode = ExitCode.FOUND;
        return;
      }
      const rs = loadRuleset(file);
      const hook = opts.hook;
      if (target === 'nftables' && hook && !['prerouting', 'input', 'forward', 'ingress'].includes(hook))
        throw new UsageError('export: --hook for nftables is prerouting, input, forward or ingress');
      if (target === 'nftables' && hook === 'ingress' && !opts.device) throw new UsageError('export: --hook ingress needs --device');
      if (target === 'iptables' && opts.table && !['raw', 'mangle', 'filter'].includes(opts.table)) throw new UsageError('export: --table for iptables is raw, mangle or filter');
      if (!['magic', 'waf', 'both'].includes(opts.phase ?? 'both')) throw new UsageError('export: --phase is magic, waf or both');
      const out = exportRuleset(rs, target, {
        nftables: { hook: hook as 'prerouting' | undefined, device: opts.device, table: opts.table },
        iptables: { table: opts.table as 'raw' | undefined, hook: target === 'iptables' ? hook?.toUpperCase() : undefined },
        cloudflare: { phases: opts.phase === 'both' || !opts.phase ? ['magic', 'waf'] : [opts.phase as 'magic' | 'waf'] },
      });
      const body = opts.json ? `${JSON.stringify({ target, text: out.text, problems: out.problems }, null, 2)}\n` : out.text;
      if (opts.output) writeFileSync(opts.output, body);
      else process.stdout.write(body);
      for (const p of out.problems) process.stderr.write(`palisade: not exported: ${formatProblem(p, rs)}\n`);
      if (out.problems.length > 0) process.exitCode = ExitCode.FOUND;
    });
}
