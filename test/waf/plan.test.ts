/**
 * The start-up plan (src/waf/plan.ts): rules decided before any request leave the phase lists,
 * skipAfter targets are resolved per phase, and the plan, its lists and the rules are frozen,
 * so no request can change what the next one runs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Phase } from '../../src/waf/phase.js';
import { buildPlan } from '../../src/waf/plan.js';
import type { Rule } from '../../src/waf/rule.js';
import { compileRules } from '../../src/waf/rules.js';
import { parseSecLang } from '../../src/waf/seclang.js';

const RULES = `
SecAction "id:1,phase:1,pass,nolog,setvar:tx.paranoia_level=1"
SecRule TX:PARANOIA_LEVEL "@lt 2" "id:2,phase:2,pass,nolog,skipAfter:END_PL2"
SecRule ARGS "@rx attack" "id:3,phase:2,deny,status:403"
SecMarker END_PL2
SecRule ARGS "@rx evil" "id:4,phase:2,deny,status:403,skipAfter:END"
SecRule ARGS "@rx worse" "id:5,phase:2,deny,status:403"
SecMarker END
`;

const ids = (rules: readonly Rule[]): (number | string)[] => rules.map((r) => r.marker ?? r.id);

test('request-independent rules are decided at start-up and leave the phase lists', () => {
  const plan = buildPlan(compileRules(parseSecLang(RULES, 'plan.conf')));
  // rule 1 runs once: its TX is the initial TX of every request
  assert.deepEqual(ids(plan.phases[Phase.REQUEST_HEADERS].rules), ['END_PL2', 'END']);
  assert.equal(plan.initialTx?.get('paranoia_level')?.value, '1');
  // rule 2 always skips to END_PL2, so it and rule 3 go
  const body = plan.phases[Phase.REQUEST_BODY];
  assert.deepEqual(ids(body.rules), ['END_PL2', 4, 5, 'END']);
  assert.equal(body.decided, null);
  // skipAfter resolved against the list requests walk
  assert.deepEqual(body.skipTo, [-1, 3, -1, -1]);
});

test('the plan, its phase lists and its rules are frozen', () => {
  const plan = buildPlan(compileRules(parseSecLang(RULES, 'plan.conf')));
  assert.ok(Object.isFrozen(plan));
  assert.ok(Object.isFrozen(plan.phases));
  for (const p of plan.phases) {
    assert.ok(Object.isFrozen(p) && Object.isFrozen(p.rules) && Object.isFrozen(p.skipTo));
    for (const r of p.rules) assert.ok(Object.isFrozen(r), `rule ${r.id || r.marker}`);
  }
  const rule = plan.phases[Phase.REQUEST_BODY].rules[1] as Rule;
  assert.throws(() => {
    (rule as { skip: number }).skip = 3;
  }, TypeError);
  assert.throws(() => (plan.phases[Phase.REQUEST_BODY].rules as Rule[]).push(rule), TypeError);
});

test('with the engine off nothing is decided', () => {
  const plan = buildPlan(compileRules(parseSecLang(`SecRuleEngine Off\n${RULES}`, 'plan.conf')));
  assert.equal(plan.initialTx, null);
  assert.deepEqual(ids(plan.phases[Phase.REQUEST_BODY].rules), [2, 3, 'END_PL2', 4, 5, 'END']);
  assert.deepEqual(plan.phases[Phase.REQUEST_BODY].skipTo, [2, -1, -1, 5, -1, -1]);
});
