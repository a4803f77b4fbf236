/**
 * The spool on its own: one suite over both implementations (disk and memory) for the queue's
 * contract (order, read/commit/rewind, the bound), then what only the disk one promises:
 * surviving a restart without resending what was committed, deleting a segment only once all of
 * it is committed, and skipping a torn or corrupt record instead of failing.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MemorySpool, Spool, type SpoolQueue, type SpoolRecord } from '../../src/cluster/spool.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'palisade-spool-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const rec = (i: number, pad = ''): SpoolRecord => ({ subject: 'palisade.s.n.summary', msgId: `id-${i}`, data: JSON.stringify({ i, pad }) });
const ids = (rs: SpoolRecord[]) => rs.map((r) => r.msgId);
const segments = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.jsonl'));

const IMPLEMENTATIONS: ReadonlyArray<readonly [string, (maxBytes?: number) => SpoolQueue]> = [
  ['disk', (maxBytes) => new Spool({ dir: tmp(), maxBytes })],
  ['memory', (maxBytes) => new MemorySpool(maxBytes ?? 1 << 20)],
];

for (const [name, make] of IMPLEMENTATIONS) {
  describe(`spool (${name})`, () => {
    it('reads in append order; commit acknowledges what was read; rewind reads it again', () => {
      const s = make();
      for (let i = 0; i < 5; i++) assert.equal(s.append(rec(i)), true);
      assert.equal(s.count, 5);
      assert.deepEqual(ids(s.read(2)), ['id-0', 'id-1']);
      s.commit();
      assert.equal(s.count, 3);
      assert.deepEqual(ids(s.read(2)), ['id-2', 'id-3']);
      s.rewind();
      assert.deepEqual(ids(s.read(10)), ['id-2', 'id-3', 'id-4']);
      s.commit();
      assert.equal(s.count, 0);
      assert.deepEqual(s.read(10), []);
      assert.deepEqual(s.read(10).length, 0);
      s.close();
    });

    it('keeps the data as JSON text, byte for byte equivalent', () => {
      const s = make();
      const r: SpoolRecord = { subject: 'palisade.a.b.alert', msgId: 'x y"z', data: JSON.stringify({ text: 'line\nbreak', n: [1, 2.5, null], u: 'é' }) };
      s.append(r);
      assert.deepEqual(s.read(1), [r]);
      s.close();
    });

    it('refuses an append past its bound and holds no more than it', () => {
      const s = make(500);
      let accepted = 0;
      for (let i = 0; i < 20; i++) if (s.append(rec(i, 'p'.repeat(40)))) accepted++;
      assert.ok(accepted > 0 && accepted < 20, `${accepted}`);
      assert.ok(s.bytes <= 500);
      assert.equal(s.count, accepted);
      s.close();
    });
  });
}

describe('spool on disk', () => {
  it('survives a restart: what was committed is not read again, the rest is, in order', () => {
    const dir = tmp();
    const a = new Spool({ dir });
    for (let i = 0; i < 6; i++) a.append(rec(i));
    a.read(4);
    a.commit();
    a.close();
    const b = new Spool({ dir });
    assert.equal(b.count, 2);
    assert.deepEqual(ids(b.read(10)), ['id-4', 'id-5']);
    b.append(rec(6));
    assert.deepEqual(ids(b.read(10)), ['id-6']);
    b.commit();
    b.close();
    assert.deepEqual(segments(dir), []);
  });

  it('records spooled after everything was committed survive the next restarts (segment numbers never go back)', () => {
    const dir = tmp();
    const a = new Spool({ dir });
    for (let i = 0; i < 3; i++) a.append(rec(i));
    a.read(10);
    a.commit();
    a.close();
    assert.deepEqual(segments(dir), []);
    const b = new Spool({ dir });
    assert.equal(b.count, 0);
    b.append(rec(3));
    b.append(rec(4));
    b.close();
    const c = new Spool({ dir });
    assert.equal(c.count, 2);
    assert.deepEqual(ids(c.read(10)), ['id-3', 'id-4']);
    c.close();
    const d = new Spool({ dir });
    assert.deepEqual(ids(d.read(10)), ['id-3', 'id-4'], 'read and not committed: read again');
    d.commit();
    d.close();
    assert.equal(new Spool({ dir }).count, 0);
  });

  it('deletes a segment only once every record in it is committed', () => {
    const dir = tmp();
    const s = new Spool({ dir, segmentBytes: 200 });
    for (let i = 0; i < 12; i++) {
      s.append(rec(i, 'q'.repeat(20)));
      s.sync();
    }
    const before = segments(dir).length;
    assert.ok(before >= 3, `${before} segments`);
    s.read(1);
    s.commit();
    assert.equal(segments(dir).length, before, 'a partly committed segment stays');
    const rest = s.read(100);
    assert.equal(rest.length, 11);
    s.rewind();
    assert.equal(segments(dir).length, before);
    s.read(100);
    s.commit();
    assert.deepEqual(segments(dir), []);
    assert.equal(s.count, 0);
    assert.equal(s.bytes, 0);
    s.close();
  });

  it('a torn tail record (a crash mid-write) is counted and skipped, never a crash', () => {
    const dir = tmp();
    const a = new Spool({ dir });
    for (let i = 0; i < 3; i++) a.append(rec(i));
    a.close();
    const [seg] = segments(dir);
    appendFileSync(join(dir, seg as string), '{"s":"palisade.s.n.summary","i":"id-3","d":{"i":');
    const b = new Spool({ dir });
    assert.deepEqual(ids(b.read(10)), ['id-0', 'id-1', 'id-2']);
    assert.equal(b.corrupt, 1);
    b.append(rec(4));
    assert.deepEqual(ids(b.read(10)), ['id-4']);
    b.rewind();
    b.read(10);
    assert.equal(b.corrupt, 1, 'a rewind does not count it twice');
    b.commit();
    b.close();
    assert.deepEqual(segments(dir), []);
  });

  it('a corrupt line in the middle is skipped, the records around it kept', () => {
    const dir = tmp();
    writeFileSync(
      join(dir, 'seg-000000000001.jsonl'),
      `${JSON.stringify({ s: 'palisade.s.n.alert', i: 'a', d: 1 })}\n\u0000\u0000garbage\n{"s":1}\n${JSON.stringify({ s: 'palisade.s.n.alert', i: 'b', d: { x: 2 } })}\n`,
    );
    const s = new Spool({ dir });
    assert.equal(s.count, 4);
    assert.deepEqual(
      s.read(10).map((r) => [r.msgId, r.data]),
      [
        ['a', '1'],
        ['b', '{"x":2}'],
      ],
    );
    assert.equal(s.corrupt, 2);
    s.commit();
    assert.equal(s.count, 0);
    s.close();
  });

  it('a cursor file that is garbage is ignored (everything is resent; ids de-duplicate)', () => {
    const dir = tmp();
    const a = new Spool({ dir });
    a.append(rec(0));
    a.close();
    writeFileSync(join(dir, 'cursor.json'), '{not json');
    const b = new Spool({ dir });
    assert.deepEqual(ids(b.read(5)), ['id-0']);
    b.close();
  });
});
