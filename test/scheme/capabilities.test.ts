/**
 * The packet catalogue is the one place that says what a field can do (scheme/types.ts FieldCaps).
 * These tests hold it to the truth: the exporters accept exactly the fields whose `targets` name
 * them (measured by exporting a rule on each field), the Magic Firewall set is the spec's [CF]
 * rows, and the packet-rule IR and export limits are read from the catalogue.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { exportRuleset, TARGETS } from '../../src/export/index.js';
import { FIELD_MAX } from '../../src/export/normalize.js';
import { PACKET_FIELDS } from '../../src/rules/packet-ir.js';
import { packetScheme } from '../../src/scheme/packet.js';
import { fieldsWith } from '../../src/scheme/types.js';

/** A test on the field with a value every target could hold if it knew the field. */
function ruleOn(name: string, ir: string): string {
  const value: Record<string, string> = { 'ip.version': '== 4', 'tcp.flags': '== 0x02', 'ip.len': '== 100', 'outer.ip.version': '== 4', 'outer.ip.len': '== 100' };
  const test = ir === 'bool' ? name : `${name} ${value[name] ?? { ip: '== 192.0.2.1', int: '== 20', bytes: '== "tcp"' }[ir]}`;
  // An IPv4 address pins the family (some fields exist for IPv4 only); icmp.code needs a type in
  // iptables. Outer-header fields are pinned with an outer address: exporters refuse mixing them with inner fields.
  const pin = name.startsWith('outer.') ? 'outer.ip.src' : 'ip.src';
  return `${pin} in {192.0.2.0/24} and ${name === 'icmp.code' ? 'icmp.type == 3 and ' : ''}${test}`;
}

describe('packet field capabilities', () => {
  it('every exporter accepts exactly the fields whose targets name it', () => {
    const wrong: string[] = [];
    for (const f of fieldsWith(packetScheme, 'ir')) {
      for (const target of TARGETS) {
        const r = exportRuleset({ rules: [{ id: 'r', expression: ruleOn(f.name, f.caps.ir), action: 'block' }] }, target, { cloudflare: { phases: ['magic'] } });
        const accepted = r.problems.length === 0;
        const declared = f.caps.targets?.includes(target) ?? false;
        if (accepted !== declared) wrong.push(`${f.name} ${target}: exporter ${accepted ? 'accepts' : `refuses (${r.problems[0]?.reason})`}, catalogue says ${declared}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it("the Magic Firewall target is the spec's [CF] packet rows that the rule IR holds", () => {
    const spec = readFileSync(new URL('../../../shared/specs/rules-language.md', import.meta.url), 'utf8');
    const section = spec.slice(spec.indexOf('### 10.1'), spec.indexOf('### 10.2'));
    const cf = new Set<string>();
    for (const line of section.split('\n')) {
      if (!/\[CF[\];]/.test(line)) continue;
      const cell = line.split('|')[1] ?? '';
      const names = [...cell.matchAll(/`([a-z0-9_.]+)`/g)].map((m) => m[1] as string);
      // `tcp.flags.fin` `.syn` …: suffixes continue the first name's prefix.
      const base = (names[0] ?? '').replace(/\.[a-z]+$/, '');
      for (const n of names) cf.add(n.startsWith('.') ? `${base}${n}` : n);
    }
    const declared = fieldsWith(packetScheme, 'targets')
      .filter((f) => f.caps.targets.includes('cloudflare'))
      .map((f) => f.name);
    assert.deepEqual(declared.sort(), [...cf].filter((n) => n in PACKET_FIELDS).sort());
  });

  it("the rule IR and the export limits are the catalogue's", () => {
    for (const [name, ir] of Object.entries(PACKET_FIELDS)) {
      const f = packetScheme.fields.get(name);
      assert.ok(f, name);
      assert.equal(f.caps?.ir, ir);
      const expected = { int: 'Int', ip: 'Ip', bytes: 'Bytes', bool: 'Bool' }[ir];
      assert.equal(f.type, expected, `${name}: IR kind agrees with the Rules type`);
      if (ir === 'int') assert.ok(FIELD_MAX[name] !== undefined, `${name} has a maximum`);
    }
  });

  it('signature candidates are Int fields of the IR with a sane domain and distinct ranks', () => {
    const cands = fieldsWith(packetScheme, 'signature');
    assert.ok(cands.length >= 10);
    const ranks = new Set(cands.map((f) => f.caps.signature.rank));
    assert.equal(ranks.size, cands.length);
    for (const f of cands) {
      assert.equal(f.caps.ir, 'int', f.name);
      assert.ok(f.caps.signature.min <= f.caps.signature.max && f.caps.signature.max <= (f.caps.max ?? Number.POSITIVE_INFINITY), f.name);
    }
  });
});
