/** What a candidate ruleset would have done to the recorded traffic: per rule, matched and decided, attack vs other. */
import type { WhatIf } from './types.js';

const n = (v: number | null | undefined) => (v == null ? '–' : v.toLocaleString('en'));
const pct = (part: number | null, whole: number | null) => (part == null || whole == null || whole === 0 ? '–' : `${((100 * part) / whole).toFixed(1)} %`);

export function WhatIfTable({ report }: { report: WhatIf }) {
  return (
    <>
      <p class="hint">
        {`${n(report.window.packets)} packets in the last ${report.minutes} min`}
        {report.labelled !== null && ` (${n(report.labelled.attack)} attack, ${n(report.labelled.other)} other)`}. {report.reads}
      </p>
      <table class="list whatif">
        <caption class="visually-hidden">What-if per rule</caption>
        <thead>
          <tr>
            <th scope="col">Rule</th>
            <th scope="col">Action</th>
            <th scope="col" class="num">
              Matched
            </th>
            <th scope="col" class="num">
              Decided
            </th>
            <th scope="col" class="num">
              Attack
            </th>
            <th scope="col" class="num">
              Other
            </th>
            <th scope="col" class="num">
              Attack share
            </th>
          </tr>
        </thead>
        <tbody>
          {report.rules.map((r) => {
            const s = report.split.find((x) => x.id === r.id);
            const decided = r.dropped.packets + r.passed.packets + r.rate_limited.packets;
            const labelled = s && s.attack !== null && s.other !== null ? s.attack + s.other : null;
            return (
              <tr key={r.id} data-rule={r.id}>
                <th scope="row" class="mono">
                  {r.id}
                </th>
                <td>{r.action}</td>
                <td class="num" data-matched={r.matched.packets}>
                  {n(r.matched.packets)}
                </td>
                <td class="num">{n(decided)}</td>
                <td class="num">{n(s?.attack)}</td>
                <td class="num">{n(s?.other)}</td>
                <td class="num">{pct(s?.attack ?? null, labelled)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}
