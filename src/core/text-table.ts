/**
 * Columns for a person: padded to their widest cell (colour codes do not count), two spaces
 * apart, one line per row, no trailing spaces. Used by every command that prints a table.
 */
const ANSI = /\x1b\[[0-9;]*m/g;
const width = (s: string): number => [...s.replace(ANSI, '')].length;

export function textTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] as number) - width(c))))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
