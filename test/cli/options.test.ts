/** Numeric options: one parser, a UsageError naming the flag and the accepted range, never a silent default. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { describeRange, intOption, numberOption, parseIntArg, parseNumberArg } from '../../src/cli/options.js';
import { UsageError } from '../../src/core/errors.js';

/** Asserts that `f` throws a UsageError with exactly this message. */
function rejects(f: () => unknown, message: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof UsageError, String(e));
    assert.equal(e.code, 'E_USAGE');
    assert.equal(e.message, message);
    return true;
  });
}

describe('parseIntArg', () => {
  test('accepts decimal whole numbers in range', () => {
    assert.equal(parseIntArg('--top', '10', { min: 1 }), 10);
    assert.equal(parseIntArg('--top', '007', { min: 1 }), 7);
    assert.equal(parseIntArg('--top', '+3', { min: 1 }), 3);
    assert.equal(parseIntArg('--paranoia', '4', { min: 1, max: 4 }), 4);
    assert.equal(parseIntArg('--offset', '-5', { min: -10, max: 10 }), -5);
    assert.ok(Object.is(parseIntArg('--seed', '-0', { min: 0 }), 0), '-0 is 0');
    assert.equal(parseIntArg('--n', '9007199254740991'), Number.MAX_SAFE_INTEGER);
  });

  test('not a number: names the flag and the range', () => {
    rejects(() => parseIntArg('--top', 'abc', { min: 1 }), '--top must be a whole number of 1 or more, not "abc"');
    rejects(() => parseIntArg('--top', '', { min: 1 }), '--top must be a whole number of 1 or more, not ""');
    rejects(() => parseIntArg('--top', ' 5', { min: 1 }), '--top must be a whole number of 1 or more, not " 5"');
    rejects(() => parseIntArg('--top', '5x', { min: 1 }), '--top must be a whole number of 1 or more, not "5x"');
    rejects(() => parseIntArg('--top', '0x10', { min: 1 }), '--top must be a whole number of 1 or more, not "0x10"');
  });

  test('a float, or exponent notation, where a whole number is expected', () => {
    rejects(() => parseIntArg('--top', '1.5', { min: 1 }), '--top must be a whole number of 1 or more, not "1.5"');
    rejects(() => parseIntArg('--top', '2.0', { min: 1 }), '--top must be a whole number of 1 or more, not "2.0"');
    rejects(() => parseIntArg('--packets', '1e3', { min: 1 }), '--packets must be a whole number of 1 or more, not "1e3"');
  });

  test('negative, and out of range on either side', () => {
    rejects(() => parseIntArg('--seed', '-1', { min: 0, max: 4294967295 }), '--seed must be a whole number from 0 to 4294967295, not "-1"');
    rejects(() => parseIntArg('--seed', '4294967296', { min: 0, max: 4294967295 }), '--seed must be a whole number from 0 to 4294967295, not "4294967296"');
    rejects(() => parseIntArg('--top', '0', { min: 1 }), '--top must be a whole number of 1 or more, not "0"');
    rejects(() => parseIntArg('--paranoia', '5', { min: 1, max: 4 }), '--paranoia must be a whole number from 1 to 4, not "5"');
    rejects(() => parseIntArg('--paranoia', '0', { min: 1, max: 4 }), '--paranoia must be a whole number from 1 to 4, not "0"');
    rejects(() => parseIntArg('--listen port', '65536', { min: 0, max: 65535 }), '--listen port must be a whole number from 0 to 65535, not "65536"');
  });

  test('beyond the safe integers (would be rounded)', () => {
    rejects(() => parseIntArg('--n', '9007199254740993'), '--n must be a whole number, not "9007199254740993"');
  });
});

describe('parseNumberArg', () => {
  test('accepts decimals, a leading dot and exponents', () => {
    assert.equal(parseNumberArg('--interval', '0.5', { above: 0 }), 0.5);
    assert.equal(parseNumberArg('--interval', '.25', { above: 0 }), 0.25);
    assert.equal(parseNumberArg('--interval', '2', { above: 0 }), 2);
    assert.equal(parseNumberArg('--interval', '1e-3', { above: 0 }), 0.001);
  });

  test('rejects non-numbers, infinities, and values not above the bound', () => {
    for (const bad of ['abc', '', 'NaN', 'Infinity', '1e999', '0x10', '1,5', '0', '-1'])
      rejects(() => parseNumberArg('--interval', bad, { above: 0 }), `--interval must be a number greater than 0, not "${bad}"`);
    rejects(() => parseNumberArg('--rate', '101', { min: 0, max: 100 }), '--rate must be a number from 0 to 100, not "101"');
  });
});

test('describeRange says every combination in words', () => {
  assert.equal(describeRange('int', {}), 'a whole number');
  assert.equal(describeRange('int', { min: 1 }), 'a whole number of 1 or more');
  assert.equal(describeRange('int', { max: 9 }), 'a whole number of 9 or less');
  assert.equal(describeRange('int', { min: 1, max: 4 }), 'a whole number from 1 to 4');
  assert.equal(describeRange('number', { above: 0 }), 'a number greater than 0');
  assert.equal(describeRange('number', { above: 0, max: 60 }), 'a number greater than 0 and at most 60');
});

describe('as commander argParsers', () => {
  const program = () =>
    new Command('t')
      .exitOverride()
      .option('--top <n>', 'entries', intOption('--top', { min: 1 }), 10)
      .option('--interval <s>', 'seconds', numberOption('--interval', { above: 0 }), 1);

  test('the value arrives parsed; the default is the number given', () => {
    assert.deepEqual(program().parse(['--top', '3', '--interval', '0.5'], { from: 'user' }).opts(), { top: 3, interval: 0.5 });
    assert.deepEqual(program().parse([], { from: 'user' }).opts(), { top: 10, interval: 1 });
  });

  test('a bad value is our UsageError, not commander’s own message', () => {
    rejects(() => program().parse(['--top', 'abc'], { from: 'user' }), '--top must be a whole number of 1 or more, not "abc"');
    rejects(() => program().parse(['--interval=-2'], { from: 'user' }), '--interval must be a number greater than 0, not "-2"');
  });
});
