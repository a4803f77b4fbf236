/**
 * `palisade compare A.log B.log` | `palisade compare access.log --a EXPR --b EXPR`: two traffic
 * populations side by side, field by field, and an expression separating B from A
 * (analyze/compare.ts). Argument handling, reading and printing only.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';
import type { Command } from 'commander';
import { type CompareResult, compare, type Populations } from '../../analyze/compare.js';
import { type Feature, httpFeatures, packetFeatures, pickFeatures } from '../../analyze/compare-features.js';
import { renderCompare } from '../../analyze/compare-render.js';
import { InputError, PalisadeError, UsageError } from '../../core/errors.js';
import type { PacketView } from '../../decode/view.js';
import { IpList } from '../../mitigate/lists.js';
import { compileRule, type Lists, type NamedList, type Predicate } from '../../rules/compile.js';
import { RulesError, rulesErrorLine } from '../../rules/errors.js';
import { type HttpRequestView, httpScheme } from '../../scheme/http.js';
import { HttpLogRequest } from '../../scheme/http-log.js';
import { packetScheme } from '../../scheme/packet.js';
import type { Scheme } from '../../scheme/types.js';
import { accessLogSource } from '../../sources/accesslog/index.js';
import { captureSource } from '../../sources/capture/source.js';
import { intOption } from '../options.js';

interface Opts {
  a?: string;
  b?: string;
  list: string[];
  as?: string;
  format?: string;
  fields?: string;
  rows?: number;
  json?: boolean;
  color: boolean;
}

type Kind = 'http' | 'packets';

/** Pass-through: every record read by a source goes to one callback. */
type Reader<V> = (input: string, onView: (v: V) => void) => Promise<void>;

const PCAP_MAGICS = new Set([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a]);

/** A capture (pcap/pcapng, gzip or not) or, failing that, an access log — by the bytes, not the name. */
function sniffKind(path: string): Kind {
  if (path === '-') return 'http';
  let head: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      const b = Buffer.alloc(65536);
      head = b.subarray(0, readSync(fd, b, 0, b.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(`compare: ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    try {
      head = gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch {
      return 'http';
    }
  }
  return head.length >= 4 && PCAP_MAGICS.has(head.readUInt32BE(0)) ? 'packets' : 'http';
}

/** `--list NAME=FILE`: an IP list (plain, CSV, JSON, Spamhaus, FireHOL) usable as `$NAME`. */
function loadLists(specs: string[]): Lists {
  const lists = new Map<string, NamedList>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`compare: --list takes NAME=FILE, not "${spec}"`);
    const name = spec.slice(0, eq);
    if (!/^[a-z0-9_]+$/.test(name)) throw new UsageError(`compare: list name "${name}": use lowercase letters, digits and _ (it is written $${name} in expressions)`);
    if (lists.has(name)) throw new UsageError(`compare: list ${name} given twice`);
    const l = new IpList({ name }).addFile(spec.slice(eq + 1));
    const bad = l.problems.filter((p) => p.severity === 'error');
    if (bad.length > 0) process.stderr.write(`palisade: warning: list ${name}: ${bad.length} line(s) skipped (first: line ${bad[0]?.line}: ${bad[0]?.message})\n`);
    lists.set(name, { kind: 'ip', items: [], has4: (u) => l.has4(u), has6: (buf, off) => l.has6(buf, off) });
  }
  return lists;
}

/** The scheme fields an expression reads (every field node of its AST). */
function fieldsOf(node: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(node)) for (const x of node) fieldsOf(x, out);
  else if (node !== null && typeof node === 'object' && !ArrayBuffer.isView(node)) {
    const n = node as { k?: unknown; name?: unknown };
    if (n.k === 'field' && typeof n.name === 'string') out.add(n.name);
    for (const v of Object.values(node)) fieldsOf(v, out);
  }
  return out;
}

function compileSide<V>(flag: string, expr: string, scheme: Scheme<V>, lists: Lists, fields: Set<string>): Predicate<V> {
  try {
    const rule = compileRule(expr, scheme, { lists });
    fieldsOf(rule.ast, fields);
    return rule.test;
  } catch (e) {
    if (!(e instanceof RulesError)) throw e;
    throw new PalisadeError('E_RULE', `compare: invalid ${flag} expression\n${rulesErrorLine(e)}`, e.span, expr);
  }
}

function httpReader(format: string | undefined): Reader<HttpRequestView> {
  return async (input, onView) => {
    const req = new HttpLogRequest();
    const info = await accessLogSource(input, { format }).read((v) => onView(req.point(v)));
    if (info.malformed > 0) process.stderr.write(`palisade: warning: ${input}: ${info.malformed} line(s) did not parse and were skipped\n`);
    if (info.error) process.stderr.write(`palisade: warning: ${input}: ${info.error}\n`);
  };
}

const packetReader: Reader<PacketView> = async (input, onView) => {
  const info = await captureSource(input).read(onView);
  if (info.error) process.stderr.write(`palisade: warning: ${input}: ${info.error}\n`);
};

/**
 * The populations: two inputs (each optionally narrowed by its expression) read one after the
 * other, or one input whose records the two expressions sort (a side without an expression is
 * the complement of the other).
 */
function populations<V>(inputs: string[], read: Reader<V>, predA: Predicate<V> | null, predB: Predicate<V> | null): Populations<V> {
  // Stdin is read once: compare() then skips the measuring pass.
  const stdin = inputs.includes('-');
  if (inputs.length === 2) {
    const [fa, fb] = inputs as [string, string];
    return {
      replayable: !stdin,
      async read(emit) {
        await read(fa, (v) => emit(v, predA === null || predA(v), false));
        await read(fb, (v) => emit(v, false, predB === null || predB(v)));
      },
    };
  }
  const [f] = inputs as [string];
  return {
    replayable: !stdin,
    async read(emit) {
      await read(f, (v) => {
        const b = predB === null ? !(predA as Predicate<V>)(v) : predB(v);
        const a = predA === null ? !b : predA(v);
        emit(v, a, b);
      });
    },
  };
}

async function run<V>(inputs: string[], opts: Opts, scheme: Scheme<V>, all: Feature<V>[], read: Reader<V>): Promise<CompareResult> {
  let features = all;
  if (opts.fields !== undefined) {
    const names = opts.fields
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const picked = pickFeatures(all, names);
    if (picked.unknown.length > 0)
      throw new UsageError(`compare: --fields: no such field here: ${picked.unknown.join(', ')} (fields: ${[...new Set(all.map((f) => f.field))].join(', ')})`);
    features = picked.features;
  }
  const lists = loadLists(opts.list);
  const split = new Set<string>();
  const predA = opts.a === undefined ? null : compileSide('--a', opts.a, scheme, lists, split);
  const predB = opts.b === undefined ? null : compileSide('--b', opts.b, scheme, lists, split);
  return compare(populations(inputs, read, predA, predB), { scheme, features, lists, exclude: split });
}

function sideLabel(input: string, expr: string | undefined, other: string | undefined): string {
  if (expr !== undefined) return `${input} where ${expr}`;
  if (other !== undefined) return `${input} where not (${other})`;
  return input;
}

export function register(program: Command): void {
  program
    .command('compare')
    .description(
      'Set two traffic populations side by side, field by field: how far apart each field is, the values B has more of, and an expression that separates B from A with its match rates on both.',
    )
    .argument('<a>', 'access log (nginx, Apache, JSON lines; gzip or not) or capture (pcap, pcapng), or - for stdin')
    .argument('[b]', 'a second input of the same kind: population B (A is then the first)')
    .option('--a <expr>', 'population A: the records that match (with one input; with two, narrows the first)')
    .option('--b <expr>', 'population B: the records that match (with one input; with two, narrows the second)')
    .option('--list <name=file>', 'an IP list usable as $name in --a/--b (plain, CSV, JSON, Spamhaus, FireHOL); repeatable', (v: string, acc: string[]) => [...acc, v], [])
    .option('--as <kind>', 'http or packets (default: packets for a pcap/pcapng file, otherwise http)')
    .option('--format <fmt>', 'access-log format: combined, common, vhost_combined, json, cloudflare, nginx:..., apache:... (default: detected)')
    .option('--fields <list>', 'compare only these fields (comma-separated scheme field names, e.g. http.user_agent,ip.src)')
    .option('--rows <n>', 'fields shown in the table (most divergent first; --json has all)', intOption('--rows', { min: 1 }))
    .option('--json', 'print one JSON object (schema/compare.schema.json)')
    .option('--no-color', 'no colour even on a terminal')
    .addHelpText(
      'after',
      `
Two populations: two files (A is the first, B the second), or one file split by --a and --b
(give one and the other side is the rest). Expressions are the Rules language over the input's
scheme: the HTTP scheme for access logs (http.user_agent, http.request.uri.path,
http.response.code, ip.src, ip.src.asnum ...), the packet scheme for captures (ip.ttl, ip.len,
tcp.flags, tcp.window, udp.srcport ...). Fields: palisade rules fields --scheme http | packet.

For each field: the Jensen-Shannon divergence of its two distributions (0 alike, 1 nothing in
common), the value most over-represented in B with its share of B and of A ("+N": N more
values over-represented; --json lists five), and - in --json - that field's own condition with
its match rates. Fields the --a/--b expressions read define the populations: they are listed
but kept out of the conditions. The suggested expression is the best single-field condition, or two
conditions on different fields joined by "and" when that is clearly better; its match rates
are measured by evaluating it on every record (a second pass over the files), so filtering
with it gives the same counts. From stdin there is one pass and the rates are estimates.

Memory is bounded: each field's values are counted in a table of 4096 entries per side
(space-saving: every value above 1/4096 of its population is kept).

Exit codes: 0 ok; 2 usage error or invalid expression; 3 input unreadable.

Examples:
  palisade compare normal.log attack.log
  palisade compare access.log --b 'ip.src in $suspects' --list suspects=suspects.txt
  palisade compare access.log --a 'http.response.code < 400' --b 'http.response.code in {401 403}'
  palisade compare access.log --b 'http.request.uri.path == "/login"' --fields http.user_agent,ip.src --json
  palisade compare baseline.pcap attack.pcap --rows 8`,
    )
    .action(async (a: string, b: string | undefined, opts: Opts) => {
      const inputs = b === undefined ? [a] : [a, b];
      if (inputs.length === 1 && opts.a === undefined && opts.b === undefined)
        throw new UsageError('compare: give two inputs, or one input and --a and/or --b to split it (see palisade compare --help)');
      if (inputs.length === 2 && a === '-' && b === '-') throw new UsageError('compare: stdin can be read once; give at most one of the inputs as -');
      if (opts.as !== undefined && opts.as !== 'http' && opts.as !== 'packets') throw new UsageError('compare: --as must be http or packets');
      const kinds = inputs.map(sniffKind);
      const kind: Kind = (opts.as as Kind | undefined) ?? (kinds[0] as Kind);
      if (opts.as === undefined && kinds.some((k) => k !== kind))
        throw new UsageError(`compare: ${a} and ${b} are not the same kind of input (one is a capture, the other is not)`);
      if (kind === 'packets' && opts.format !== undefined) throw new UsageError('compare: --format is for access logs');
      const result =
        kind === 'http'
          ? await run(inputs, opts, httpScheme, httpFeatures(httpScheme), httpReader(opts.format))
          : await run(inputs, opts, packetScheme, packetFeatures(packetScheme), packetReader);
      const sideA = { label: sideLabel(a, opts.a, inputs.length === 1 ? opts.b : undefined) };
      const sideB = { label: sideLabel(b ?? a, opts.b, inputs.length === 1 ? opts.a : undefined) };
      if (result.a.records === 0) process.stderr.write('palisade: warning: population A is empty\n');
      if (result.b.records === 0) process.stderr.write('palisade: warning: population B is empty\n');
      if (opts.json) {
        const out = { a: { ...result.a, source: sideA.label }, b: { ...result.b, source: sideB.label }, ...omit(result) };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else process.stdout.write(renderCompare(result, sideA, sideB, opts.color && process.stdout.isTTY === true, opts.rows));
    });
}

function omit(r: CompareResult): Omit<CompareResult, 'a' | 'b'> {
  const { a: _a, b: _b, ...rest } = r;
  return rest;
}
