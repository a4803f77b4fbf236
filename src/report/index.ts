/**
 * Report facade: read an analysis, gather the report's facts once, and write it as HTML,
 * Markdown or PDF (chosen by the output file's extension unless given).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { Analysis } from '../model/analysis.js';
import { renderHtml } from './html.js';
import { parseAnalysis, readAnalysis } from './input.js';
import { renderMarkdown } from './markdown.js';
import { buildIncidentReport, buildReport, type IncidentReportInput, type ReportData, type ReportOptions, type StoredSecond, type StoredTraffic } from './model.js';
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
      : path === '-'
        ? 'writing the report to stdout (-o -) needs --format html, md or pdf'
        : `cannot tell the report format from "${path}": name it .html, .md or .pdf, or give --format`,
  );
}

/** Where `-o -` sends the report: the caller's stream (the CLI passes stdout; the library never touches it). */
export type ReportSink = (chunk: string | Uint8Array) => void;

function sinkFor(_out: string, sink: ReportSink | undefined): ReportSink {
  if (sink === undefined) throw new UsageError('writing the report to "-" needs a sink (the CLI passes stdout)');
  return sink;
}

/** Write the report to a file, or to `sink` when `out` is `-` (to pipe Markdown into a ticket tool). */
export async function writeReport(data: ReportData, out: string, format: ReportFormat, chromium?: string, sink?: ReportSink): Promise<void> {
  if (format === 'pdf') {
    if (out !== '-') return htmlToPdf(renderHtml(data), out, { chromium });
    const write = sinkFor(out, sink);
    const dir = mkdtempSync(join(tmpdir(), 'palisade-report-'));
    try {
      await htmlToPdf(renderHtml(data), join(dir, 'report.pdf'), { chromium });
      write(readFileSync(join(dir, 'report.pdf')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return;
  }
  const text = format === 'html' ? renderHtml(data) : renderMarkdown(data);
  if (out === '-') sinkFor(out, sink)(text);
  else writeFileSync(out, text);
}

export async function makeReport(analysis: Analysis, out: string, opts: ReportOptions & { format?: string; chromium?: string; sink?: ReportSink } = {}): Promise<ReportData> {
  const format = formatOf(out, opts.format);
  const data = await buildReport(analysis, opts);
  await writeReport(data, out, format, opts.chromium, opts.sink);
  return data;
}

/** The report of a stored incident (`palisade incidents report`), written as makeReport writes a capture's. */
export async function makeIncidentReport(
  input: IncidentReportInput,
  out: string,
  opts: Pick<ReportOptions, 'tz' | 'customer' | 'now'> & { format?: string; chromium?: string; sink?: ReportSink } = {},
): Promise<ReportData> {
  const format = formatOf(out, opts.format);
  const data = buildIncidentReport(input, opts);
  await writeReport(data, out, format, opts.chromium, opts.sink);
  return data;
}

export type { IncidentReportInput, ReportData, ReportOptions, StoredSecond, StoredTraffic };
export { buildIncidentReport, buildReport, parseAnalysis, readAnalysis, renderHtml, renderMarkdown };
