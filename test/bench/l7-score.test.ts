/**
 * The L7 bench's scoring: CrowdSec 1.4.6's replay output read into alerts and decisions (lines as
 * that version prints them), Palisade's attacks[].sources.ips, and both held against a truth.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crowdsecFlagged, palisadeFlagged, score } from '../../bench/l7-score.js';

// Lines as crowdsec 1.4.6 prints them in single-file mode (log_media=stdout), addresses changed.
const CROWDSEC_OUTPUT = [
  'time="06-12-2026 13:11:55" level=info msg="CrowdSec Local API listening on 127.0.0.1:48080"',
  `time="06-12-2026 13:12:39" level=info msg="Ip 198.51.100.7 performed 'LePresidente/http-generic-401-bf' (6 events over 4s) at 2026-03-02 10:00:37 +0000 UTC"`,
  `time="06-12-2026 13:12:40" level=info msg="Ip 198.51.100.9 performed 'crowdsecurity/http-sensitive-files' (5 events over 1s) at 2026-03-02 10:00:38 +0000 UTC"`,
  `time="06-12-2026 13:12:41" level=info msg="Ip 198.51.100.9 performed 'crowdsecurity/http-probing' (11 events over 3s) at 2026-03-02 10:00:39 +0000 UTC"`,
  'time="06-12-2026 13:12:46" level=info msg="(bench/crowdsec) LePresidente/http-generic-401-bf by ip 198.51.100.7 : 4h ban on Ip 198.51.100.7"',
  'time="06-12-2026 13:12:47" level=info msg="(bench/crowdsec) crowdsecurity/http-probing by ip 198.51.100.9 : 4h ban on Ip 198.51.100.9"',
  'time="06-12-2026 13:12:48" level=info msg="(bench/crowdsec) crowdsecurity/http-bad-user-agent by ip 192.0.2.66 : 4h ban on Ip 192.0.2.66"',
  `time="06-12-2026 13:12:48" level=info msg="Ip 192.0.2.66 performed 'crowdsecurity/http-bad-user-agent' (2 events over 0s) at 2026-03-02 10:00:40 +0000 UTC"`,
  'time="06-12-2026 13:13:09" level=warning msg="Acquisition is finished, shutting down"',
].join('\n');

const TRUTH = {
  attacks: [
    {
      label: 1,
      vector: 'credential_stuffing' as const,
      group: 'stuffing_busy' as const,
      victim: { host: 'a' },
      start: '',
      end: '',
      lines: 10,
      ips: ['198.51.100.7', '198.51.100.8'],
      params: {},
    },
    { label: 2, vector: 'scanner' as const, group: 'scanner_fast' as const, victim: { host: 'a' }, start: '', end: '', lines: 10, ips: ['198.51.100.9'], params: {} },
  ],
  legit: { crawlers: ['192.0.2.66'], monitors: ['192.0.2.77'], nat_egresses: [] },
};

test('crowdsec replay output: alerts and decisions by address and scenario', () => {
  const { alerts, decisions } = crowdsecFlagged(CROWDSEC_OUTPUT);
  assert.deepEqual([...alerts.keys()].sort(), ['192.0.2.66', '198.51.100.7', '198.51.100.9']);
  assert.deepEqual([...(alerts.get('198.51.100.9') ?? [])].sort(), ['crowdsecurity/http-probing', 'crowdsecurity/http-sensitive-files']);
  assert.deepEqual([...decisions.keys()].sort(), ['192.0.2.66', '198.51.100.7', '198.51.100.9']);
  assert.deepEqual([...(decisions.get('198.51.100.7') ?? [])], ['LePresidente/http-generic-401-bf']);
});

test('score: per group flagged, by name; legitimate addresses flagged by kind and the rest', () => {
  const s = score(TRUTH, crowdsecFlagged(CROWDSEC_OUTPUT).alerts);
  assert.equal(s.total, 3);
  assert.deepEqual(
    s.groups.map((g) => [g.group, g.ips, g.flagged, g.rightVector]),
    [
      ['stuffing_busy', 2, 1, 0],
      ['scanner_fast', 1, 1, 0],
    ],
  );
  assert.deepEqual(s.groups[1]?.by, [
    ['crowdsecurity/http-probing', 1],
    ['crowdsecurity/http-sensitive-files', 1],
  ]);
  assert.deepEqual(
    s.legit.map((l) => [l.kind, l.ips, l.flagged]),
    [
      ['crawlers', 1, ['192.0.2.66']],
      ['monitors', 1, []],
      ['nat_egresses', 0, []],
    ],
  );
  assert.deepEqual(s.otherFlagged, []);
});

test('palisade: sources.ips under the attack vector; an attack without the list makes the output incomplete', () => {
  const full = palisadeFlagged({
    attacks: [
      { vector: 'credential_stuffing', sources: { ips: ['198.51.100.7', '198.51.100.8'] } },
      { vector: 'http_flood', sources: { ips: ['203.0.113.5'] } },
    ],
  });
  assert.equal(full.complete, true);
  const s = score(TRUTH, full.flagged);
  assert.deepEqual(
    s.groups.map((g) => [g.flagged, g.rightVector]),
    [
      [2, 2],
      [0, 0],
    ],
  );
  assert.deepEqual(s.otherFlagged, ['203.0.113.5']);
  assert.equal(palisadeFlagged({ attacks: [{ vector: 'scanner', sources: { count: 3 } }] }).complete, false);
  assert.equal(palisadeFlagged({}).attacks, 0);
});
