/**
 * The human form of a comparison: who was compared, one row per field (most divergent first)
 * with the value B has most over A, then the suggested expression and its runners-up with their
 * match rates. At most 100 columns; long values are cut with "…" (--json has them whole).
 * Colour only when asked (the CLI asks on a TTY).
 */
import { createColors } from 'picocolors';
import type { CompareResult, Rate } from './compare.js';

export interface Side {
  /** What the population is: a file, or a file and the expression that selected it. */
  label: string;
}

const WIDTH = 100;
const FIELD_W = 34;
const DIV_W = 7;
const SHARE_W = 17;
const VALUE_W = WIDTH - FIELD_W - DIV_W - SHARE_W - 3;

function cut(s: string, w: number): string {
  // Control bytes would move the cursor: show them as the escapes a rule would use.
  const t = s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return t.length <= w ? t : `${t.slice(0, w - 1)}…`;
}

function pct(x: number): string {
  if (x === 0) return '0%';
  if (x >= 0.1) return `${(x * 100).toFixed(1)}%`;
  if (x >= 0.001) return `${(x * 100).toFixed(2)}%`;
  return `${(x * 100).toFixed(3)}%`;
}

function wrap(text: string, indent: string, width: number): string[] {
  const lines: string[] = [];
  let rest = text;
  const w = width - indent.length;
  while (rest.length > w) {
    let at = rest.lastIndexOf(' ', w);
    if (at <= w / 2) at = w;
    lines.push(indent + rest.slice(0, at));
    rest = rest.slice(at).replace(/^ /, '');
  }
  lines.push(indent + rest);
  return lines;
}

function rateLine(r: Rate): string {
  return `matches ${pct(r.b_share)} of B (${r.b_matched}), ${pct(r.a_share)} of A (${r.a_matched})`;
}

export function renderCompare(r: CompareResult, a: Side, b: Side, color: boolean, rows = Number.POSITIVE_INFINITY): string {
  const c = createColors(color);
  const out: string[] = [];
  out.push(`${c.bold('A')}  ${cut(a.label, WIDTH - 20)}  ${r.a.records} records`);
  out.push(`${c.bold('B')}  ${cut(b.label, WIDTH - 20)}  ${r.b.records} records`);
  out.push('');
  const head = `${'field'.padEnd(FIELD_W)} ${'diverg'.padStart(DIV_W - 1)}  ${'most over-represented in B'.padEnd(VALUE_W)} ${'B vs A'.padStart(SHARE_W)}`;
  out.push(c.bold(head));
  for (const f of r.fields.slice(0, rows)) {
    const top = f.over_represented[0];
    // "+N": more values over-represented in B (--json lists them); the share is the first one's.
    const more = f.over_represented.length > 1 ? ` +${f.over_represented.length - 1}` : '';
    const value = top ? cut(top.value === '' ? '""' : top.value, VALUE_W - more.length) + more : '-';
    const shares = top ? `${pct(top.b_share)} vs ${pct(top.a_share)}` : '';
    const d = f.divergence.toFixed(3).padStart(DIV_W - 1);
    const dShown = f.divergence >= 0.5 ? c.red(d) : f.divergence >= 0.2 ? c.yellow(d) : c.dim(d);
    out.push(`${cut(f.feature, FIELD_W).padEnd(FIELD_W)} ${dShown}  ${value.padEnd(VALUE_W)} ${shares.padStart(SHARE_W)}`);
  }
  if (r.fields.length > rows) out.push(c.dim(`(${r.fields.length - rows} more fields: --json lists them all)`));
  out.push('');
  if (r.split_fields.length > 0) out.push(c.dim(`Not in conditions (they define the populations): ${r.split_fields.join(', ')}`));
  const how = r.measured ? '' : c.yellow(' (estimated from the tables: the input could be read only once)');
  if (r.suggestion) {
    out.push(`${c.bold('Suggested expression')} — ${rateLine(r.suggestion)}${how}`);
    out.push(...wrap(r.suggestion.expression, '  ', WIDTH).map((l) => c.green(l)));
  } else {
    out.push(r.a.records === 0 || r.b.records === 0 ? 'No suggestion: a population is empty.' : 'No suggestion: no field has values B shows clearly more than A.');
  }
  if (r.alternatives.length > 0) {
    out.push('');
    out.push(c.bold('Alternatives'));
    for (const alt of r.alternatives) {
      out.push(`  ${rateLine(alt)}`);
      out.push(...wrap(alt.expression, '    ', WIDTH));
    }
  }
  return `${out.join('\n')}\n`;
}
