/**
 * Where an expression's error is, as the editor shows it: the line of the expression that holds
 * the span split around it (before, marked, after) and the caret line under it, both monospace.
 * An empty span (the error is "here", e.g. at the end of the input) marks one blank column.
 * Tabs are shown as one space each so the caret line stays under the mark.
 */
export interface CaretView {
  /** 1-based line of the expression the span starts on (expressions may span lines). */
  line: number;
  /** 1-based column of the span's start on that line. */
  column: number;
  before: string;
  marked: string;
  after: string;
  caret: string;
}

export function caretView(expression: string, span: { start: number; end: number }): CaretView {
  const start = Math.max(0, Math.min(span.start, expression.length));
  const end = Math.max(start, Math.min(span.end, expression.length));
  const lineStart = expression.lastIndexOf('\n', start - 1) + 1;
  const nl = expression.indexOf('\n', start);
  const lineEnd = nl === -1 ? expression.length : nl;
  const show = (s: string) => s.replace(/\t/g, ' ');
  const before = show(expression.slice(lineStart, start));
  // a span running past its line is marked to the end of the line
  let marked = show(expression.slice(start, Math.min(end, lineEnd)));
  const after = show(expression.slice(Math.min(end, lineEnd), lineEnd));
  if (marked === '') marked = ' ';
  const line = expression.slice(0, start).split('\n').length;
  return { line, column: start - lineStart + 1, before, marked, after, caret: `${' '.repeat(before.length)}${'^'.repeat(marked.length)}` };
}
