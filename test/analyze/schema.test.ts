/** `palisade analyze --json` output validates against schema/analysis.schema.json on every corpus capture. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { test } from 'node:test';
import { schemaErrors } from '../../src/model/validate.js';
import { corpusFiles } from '../helpers/tshark.js';

test('analyze --json matches the schema for every corpus capture', () => {
  for (const f of corpusFiles()) {
    const out = execFileSync(process.execPath, ['bin/palisade.js', 'analyze', '--json', f], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const doc = JSON.parse(out);
    const errors = schemaErrors(doc, 'analysis');
    assert.equal(errors, null, `${basename(f)}: ${errors}`);
    assert.equal(doc.capture.file, f);
  }
});

test('the schema rejects a record that breaks the contract', () => {
  const out = execFileSync(process.execPath, ['bin/palisade.js', 'analyze', '--json', corpusFiles()[0] as string], { encoding: 'utf8' });
  const doc = JSON.parse(out);
  delete doc.traffic.protocols.udp;
  assert.notEqual(schemaErrors(doc, 'analysis'), null);
});
