/**
 * One error model in the CLI: every ErrorCode, produced by a real command line, gives the exit
 * code of ERROR_EXIT and a "palisade: <message>" line on stderr; the table covers the closed set;
 * the one caret renderer counts code points and lays the caret out in terminal columns; a reader
 * that closes the pipe early ends the command quietly.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, describe, test } from 'node:test';
import { CommanderError } from 'commander';
import { reportError, run } from '../../src/cli/main.js';
import { caret } from '../../src/core/caret.js';
import { ConfigError, ERROR_CODES, ERROR_EXIT, type ErrorCode, ExitCode, exitCodeOf, PalisadeError, UsageError } from '../../src/core/errors.js';
import { compile } from '../../src/rules/compile.js';
import { RulesError } from '../../src/rules/errors.js';
import { ExprError, parseExpr } from '../../src/rules/packet-ir.js';
import { httpScheme } from '../../src/scheme/http.js';
import { CORPUS } from '../helpers/tshark.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ART = join(ROOT, 'out/test-artifacts/cli-errors');
const SMALL = join(CORPUS, 'ddos/amp.TCP.syn.optionallyACK.optionallysamePort.pcapng');

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 26,
  });
}

/** The code a command line throws, run in this process (the spawned CLI prints only the message). */
async function codeOf(args: string[], env: Record<string, string> = {}): Promise<ErrorCode | 'none' | 'not a PalisadeError'> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    await run(args);
    return 'none';
  } catch (e) {
    return e instanceof PalisadeError ? e.code : 'not a PalisadeError';
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** What a function writes to stderr, and what it returns. */
function stderrOf<T>(f: () => T): [T, string] {
  const write = process.stderr.write;
  let out = '';
  process.stderr.write = ((s: string) => {
    out += s;
    return true;
  }) as typeof process.stderr.write;
  try {
    return [f(), out];
  } finally {
    process.stderr.write = write;
  }
}
interface Row {
  /** The command line (files from `before`), or null where no command can produce the code yet. */
  args: (() => string[]) | null;
  env?: Record<string, string>;
  /** The whole of stderr. */
  stderr?: RegExp;
  /** Where no command exits with the code by design: a library call that raises it (printed through reportError). */
  library?: () => unknown;
}

let analysisJson = '';
let badConfig = '';

/** One row per ErrorCode: a Record over the closed set, so a new code without a row does not compile. */
const ROWS: Record<ErrorCode, Row> = {
  E_USAGE: {
    args: () => ['analyze', '--top', 'abc', SMALL],
    stderr: /^palisade: --top must be a whole number of 1 or more, not "abc"\n$/,
  },
  E_CONFIG: {
    args: () => ['analyze', '--config', badConfig, SMALL],
    stderr: /^palisade: \S*bad\.yaml:2:12: [^\n]*quiet_s[^\n]*\n$/,
  },
  E_RULE: {
    args: () => ['filter', '-e', 'udp', SMALL],
    // The message, then the expression and a caret under the span.
    stderr: /^palisade: filter: invalid expression\nerror\[type\] at 0: udp is Bytes, not a condition[^\n]*\nudp\n\^\^\^\n$/,
  },
  E_UNSUPPORTED: {
    // No command exits with it by design: `export` lists what a target cannot express as problems
    // (exit 1) and a ruleset with such a rule is a bad input file (exit 3). The library raises it,
    // so the row checks the library call and how the CLI would print it.
    args: null,
    library: () => parseExpr('ip.src == 10.0.0.1 and payload contains "GET"'),
    stderr: /^palisade: the field payload cannot be used in mitigation rules [^\n]+\nip\.src == 10\.0\.0\.1 and payload contains "GET"\n {23}\^{7}\n$/,
  },
  E_INPUT: {
    args: () => ['analyze', join(ART, 'nope.pcap')],
    stderr: /^palisade: \S+nope\.pcap: no such file\n$/,
  },
  E_FORMAT: {
    args: () => ['analyze', join(ROOT, 'README.md')],
    stderr: /^palisade: \S+README\.md: not a pcap or pcapng capture \(magic 0x[0-9a-f]{8}\)\n$/,
  },
  E_DEPENDENCY: {
    args: () => ['report', analysisJson, '-o', join(ART, 'report.pdf'), '--no-replay', '--no-progress'],
    env: { PALISADE_CHROMIUM: '/nonexistent/chromium' },
    stderr: /^palisade: PDF output needs Chromium, which is not installed at \/nonexistent\/chromium\. [^\n]+\n$/,
  },
};

before(() => {
  mkdirSync(ART, { recursive: true });
  badConfig = join(ART, 'bad.yaml');
  writeFileSync(badConfig, 'detection:\n  quiet_s: abc\n');
  const r = cli(['analyze', '--json', '--no-progress', SMALL]);
  assert.equal(r.status, 0, r.stderr);
  analysisJson = join(ART, 'analysis.json');
  writeFileSync(analysisJson, r.stdout);
});

describe('every ErrorCode from a real command line: exit code from ERROR_EXIT, one "palisade:" message', () => {
  for (const code of ERROR_CODES) {
    const row = ROWS[code];
    test(`${code} → exit ${ERROR_EXIT[code]}`, async () => {
      if (row.library) {
        let thrown: unknown;
        try {
          row.library();
        } catch (e) {
          thrown = e;
        }
        assert.ok(thrown instanceof PalisadeError && thrown.code === code, `the library raises ${code}`);
        const [exit, stderr] = stderrOf(() => reportError(thrown));
        assert.equal(exit, ERROR_EXIT[code]);
        assert.match(stderr, row.stderr as RegExp);
        return;
      }
      assert.ok(row.args, `no command line produces ${code}`);
      const args = row.args();
      const r = cli(args, row.env);
      assert.equal(r.status, ERROR_EXIT[code], r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, row.stderr as RegExp);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, 'no stack trace');
      assert.equal(await codeOf(args, row.env), code);
    });
  }
});

describe('ERROR_EXIT: the closed set and the README exit codes', () => {
  test('ERROR_EXIT has exactly the codes of the closed set, each mapped to a documented exit code', () => {
    assert.deepEqual([...ERROR_CODES].sort(), ['E_CONFIG', 'E_DEPENDENCY', 'E_FORMAT', 'E_INPUT', 'E_RULE', 'E_UNSUPPORTED', 'E_USAGE']);
    assert.deepEqual(Object.keys(ERROR_EXIT).sort(), [...ERROR_CODES].sort());
    assert.deepEqual(Object.keys(ROWS).sort(), [...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      assert.ok([ExitCode.USAGE, ExitCode.INPUT].includes(ERROR_EXIT[code] as 2 | 3), `${code} → ${ERROR_EXIT[code]}`);
      assert.equal(exitCodeOf(new PalisadeError(code, 'x')), ERROR_EXIT[code]);
    }
  });

  test('the exit codes are the README ones; anything that is not a PalisadeError is internal (70)', () => {
    assert.deepEqual(ExitCode, { OK: 0, FOUND: 1, USAGE: 2, INPUT: 3, INTERNAL: 70 });
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    assert.match(readme, /Exit codes: 0 ok; 1 a check failed; 2 usage error; 3 input unreadable; 70 internal error\./);
    assert.equal(exitCodeOf(new Error('bug')), ExitCode.INTERNAL);
    assert.equal(exitCodeOf('thrown string'), ExitCode.INTERNAL);
    assert.equal(exitCodeOf(undefined), ExitCode.INTERNAL);
  });

  test('usage errors commander finds itself (unknown command, missing argument) are exit 2 too', () => {
    const unknown = cli(['frobnicate']);
    assert.equal(unknown.status, ERROR_EXIT.E_USAGE);
    assert.match(unknown.stderr, /^error: unknown command 'frobnicate'\n$/);
    assert.equal(cli(['analyze']).status, ERROR_EXIT.E_USAGE);
  });
});

describe('reportError: the one place that prints an error and picks the exit code', () => {
  /** What `f` writes on stderr, and what it returns. */

  test('a PalisadeError: one "palisade:" line and ERROR_EXIT\'s code', () => {
    assert.deepEqual(
      stderrOf(() => reportError(new UsageError('export: --to must be one of x'))),
      [2, 'palisade: export: --to must be one of x\n'],
    );
    assert.deepEqual(
      stderrOf(() => reportError(new PalisadeError('E_DEPENDENCY', 'no chromium'))),
      [3, 'palisade: no chromium\n'],
    );
  });

  test('an expression error with its source: the expression and a caret under the span follow', () => {
    const e = new PalisadeError('E_UNSUPPORTED', 'len(…) cannot be used in mitigation rules', { start: 7, end: 10 }, 'a 😀 or len(x)');
    assert.deepEqual(
      stderrOf(() => reportError(e)),
      [2, 'palisade: len(…) cannot be used in mitigation rules\na 😀 or len(x)\n        ^^^\n'],
    );
    // Without the text there is nothing to point into: the message alone.
    assert.deepEqual(
      stderrOf(() => reportError(new PalisadeError('E_RULE', 'bad', { start: 1, end: 2 }))),
      [2, 'palisade: bad\n'],
    );
  });

  test('a span into a file (ConfigError) is in the message as file:line:column, no caret', () => {
    assert.deepEqual(
      stderrOf(() => reportError(new ConfigError('quiet_s must be a number', 'p.yaml', 2, 12))),
      [2, 'palisade: p.yaml:2:12: quiet_s must be a number\n'],
    );
  });

  test('anything else is internal: 70, with the stack', () => {
    const [code, out] = stderrOf(() => reportError(new TypeError('x is undefined')));
    assert.equal(code, ExitCode.INTERNAL);
    assert.match(out, /^palisade: internal error: TypeError: x is undefined\n\s+at /);
  });

  test('a closed pipe (EPIPE) is not an error: 0, nothing printed', () => {
    assert.deepEqual(
      stderrOf(() => reportError(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))),
      [0, ''],
    );
  });

  test('commander has printed its own message: 2 for a usage error, 0 for --help and --version, 2 for no command at all', () => {
    const ce = (code: string) => new CommanderError(1, code, 'm');
    assert.deepEqual(
      stderrOf(() => reportError(ce('commander.unknownCommand'), ['frob'])),
      [2, ''],
    );
    assert.deepEqual(
      stderrOf(() => reportError(ce('commander.helpDisplayed'), ['--help'])),
      [0, ''],
    );
    assert.deepEqual(
      stderrOf(() => reportError(ce('commander.version'), ['--version'])),
      [0, ''],
    );
    assert.deepEqual(
      stderrOf(() => reportError(ce('commander.help'), [])),
      [2, ''],
    );
  });
});

describe('Rules errors are PalisadeErrors with their span', () => {
  test('RulesError: code E_RULE, cls/start/end kept, span and the expression set by compile()', () => {
    const expr = 'http.request.uri.path == "😀𝐀" and nope';
    const e = (() => {
      try {
        compile(expr, httpScheme);
      } catch (err) {
        return err;
      }
      return null;
    })();
    assert.ok(e instanceof RulesError && e instanceof PalisadeError);
    assert.equal(e.code, 'E_RULE');
    assert.equal(e.cls, 'unknown_field');
    // Code points: the emoji and 𝐀 count one each (UTF-16 would say 36).
    assert.equal(e.start, 34);
    assert.deepEqual([e.span?.start, e.span?.end], [e.start, e.end]);
    assert.equal(e.expression, expr);
    assert.equal(e.source, expr);
    assert.equal(exitCodeOf(e), ExitCode.USAGE);
  });

  test('ExprError: E_RULE for a Rules class, E_UNSUPPORTED for what the IR cannot express', () => {
    const codeOfExpr = (src: string) => {
      try {
        parseExpr(src);
      } catch (e) {
        assert.ok(e instanceof ExprError && e instanceof PalisadeError);
        assert.deepEqual([e.span?.start, e.span?.end], [e.start, e.end]);
        return [e.code, e.cls, e.start, e.end];
      }
      return null;
    };
    assert.deepEqual(codeOfExpr('ip.src == 1.2.3.4 and len(payload) > 3'), ['E_UNSUPPORTED', 'unsupported', 22, 25]);
    assert.deepEqual(codeOfExpr('http.host == "x"'), ['E_RULE', 'unknown_field', 0, 9]);
    assert.equal(new ExprError('m', 1, 2, 'type', 'abc').source, 'abc');
  });

  test('rules check: the caret sits under the offending field after an emoji and a non-BMP letter', () => {
    const r = cli(['rules', 'check', '--scheme', 'http', 'http.request.uri.path == "😀𝐀" and nope']);
    assert.equal(r.status, ExitCode.FOUND);
    const lines = r.stderr.split('\n');
    assert.equal(lines[0], 'error[unknown_field] at 34: unknown field "nope" in the http scheme');
    // 26 columns, the emoji takes 2, 𝐀 1, then `" and ` 6: "nope" starts at column 35.
    assert.equal(lines[2], `${' '.repeat(35)}^^^^`);
  });
});

describe('caret(): code points in, terminal columns out', () => {
  test('ASCII: the span itself; at least one caret; one past the end for "at the end of input"', () => {
    assert.equal(caret('abc def', 4, 7), 'abc def\n    ^^^');
    assert.equal(caret('abc', 1, 1), 'abc\n ^');
    assert.equal(caret('abc', 3, 3), 'abc\n   ^');
    assert.equal(caret('abc', 1, 10), 'abc\n ^^^');
  });

  test('a non-BMP letter before the span counts as one code point and one column', () => {
    // 𝐀 is two UTF-16 units: a UTF-16 renderer would put the caret one column too far right.
    assert.equal(caret('𝐀𝐁 x', 3, 4), '𝐀𝐁 x\n   ^');
    assert.equal(caret('"𝔘" == x', 7, 8), '"𝔘" == x\n       ^');
  });

  test('an emoji (non-BMP, two columns wide) before the span: the caret is under the character on screen', () => {
    assert.equal(caret('😀 == x', 5, 6), '😀 == x\n      ^');
    // A ZWJ family is five code points but one two-column glyph.
    assert.equal(caret('👨‍👩‍👧 x', 6, 7), '👨‍👩‍👧 x\n   ^');
    // The caret under an emoji covers both of its columns.
    assert.equal(caret('a 😀 b', 2, 3), 'a 😀 b\n  ^^');
  });

  test('wide CJK characters, combining marks, newlines and tabs', () => {
    assert.equal(caret('日本 x', 3, 4), '日本 x\n     ^');
    assert.equal(caret('e\u0301 x', 3, 4), 'e\u0301 x\n  ^');
    assert.equal(caret('a\nb\tc', 4, 5), 'a b c\n    ^');
  });
});

describe('a closed pipe ends the command quietly (EPIPE handled once, in the CLI entry)', () => {
  const RUN = `${process.execPath} --import tsx test/helpers/run-cli.ts`;
  const sh = (cmd: string) => spawnSync('bash', ['-c', `${cmd}; echo "exit=\${PIPESTATUS[0]}" >&2`], { cwd: ROOT, encoding: 'utf8' });

  test('palisade analyze x.pcap | head -1', () => {
    const r = sh(`${RUN} analyze --no-progress '${SMALL}' | head -1`);
    assert.match(r.stdout, /^Capture /);
    assert.equal(r.stderr, 'exit=0\n');
  });

  test('palisade analyze --json x.pcap | true (the reader is gone before the first write)', () => {
    const r = sh(`${RUN} analyze --json --no-progress '${SMALL}' | true`);
    assert.equal(r.stderr, 'exit=0\n');
  });

  test('palisade filter -w - | head -c 100 (a synchronous write fails inside the command)', () => {
    const r = sh(`${RUN} filter -e 'ip.proto == "tcp"' -w - '${join(CORPUS, 'ddos/pkt.TCP.synflood.spoofed.pcap')}' | head -c 100 > /dev/null`);
    assert.equal(r.stderr, 'exit=0\n');
  });
});
