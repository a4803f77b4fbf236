/**
 * Report facade: read an analysis, gather the report's facts once, and write it as HTML,
 * Markdown or PDF (chosen by the output file's extension unless given).
 */
import { writeFileSync } from 'node:fs';
import type { Analysis } from '../analyze/types.js';
import { UsageError } from '../core/errors.js';
import { renderHtml } from './html.js';
import { parseAnalysis, readAnalysis } from './input.js';
import { renderMarkdown } from './markdown.js';
import { buildReport, type ReportData, type ReportOptions } from './model.js';
import { htmlToPdf } from './pdf.js';

export type ReportFormat = 'html' | 'md' | 'pdf';

export function formatOf(path: string, given?: string): ReportFormat {
  const f = (given ?? /\.([A-Za-z]+)$/.exec(path)?.[1] ?? '').toLowerCase();
  if (f === 'html' || f === 'htm') return 'html';
  if (f === 'md' || f === 'markdown') return 'md';
  if (f === 'pdf') return 'pdf';
  throw new UsageError(
    given
      ? `unknown report format "${given}" (html, md or pdf)`
      : `cannot tell the report format from "${path}": name it .html, .md or .pdf, or give --format`,
  );
}

export async function writeReport(data: ReportData, out: string, format: ReportFormat, chromium?: string): Promise<void> {
  if (format === 'html') writeFileSync(out, renderHtml(data));
  else if (format === 'md') writeFileSync(out, renderMarkdown(data));
  else await htmlToPdf(renderHtml(data), out, { chromium });
}

export async function makeReport(
  analysis: Analysis,
  out: string,
  opts: ReportOptions & { format?: string; chromium?: string } = {},
): Promise<ReportData> {
  const format = formatOf(out, opts.format);
  const data = await buildReport(analysis, opts);
  await writeReport(data, out, format, opts.chromium);
  return data;
}

export type { ReportData, ReportOptions };
export { buildReport, parseAnalysis, readAnalysis, renderHtml, renderMarkdown };
