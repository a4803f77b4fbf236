import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCommand } from '../../../src/incidents/enforce/nft.js';

test('a command that exits without reading its input is a result, never an EPIPE crash', async () => {
  // 4 MiB is far past a pipe's buffer: `true` exits first and the write meets a closed pipe.
  for (let i = 0; i < 5; i++) {
    const r = await runCommand('true', [], 'x'.repeat(4 << 20));
    assert.equal(r.code, 0);
  }
  const f = await runCommand('false', [], 'table inet t {}\n');
  assert.equal(f.code, 1);
});

test('input reaches the command; a missing command is exit 127 with the reason', async () => {
  const r = await runCommand('cat', [], 'hello\n');
  assert.deepEqual([r.code, r.stdout], [0, 'hello\n']);
  const m = await runCommand('palisade-no-such-command', []);
  assert.equal(m.code, 127);
  assert.match(m.stderr, /ENOENT/);
});
