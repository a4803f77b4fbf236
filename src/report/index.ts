/**
 * Report facade: read an analysis, gather the report's facts once, and write it as HTML,
 * Markdown or PDF (chosen by the output file's extension unless given).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Analysis } from '../analyze/types.js';
import { InputError, UsageError } from '../core/errors.js';
import { renderHtml } from './html.js';
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

/** Parse `palisade analyze --json` output, refusing anything else with a clear message. */
export function parseAnalysis(text: string, name: string): Analysis {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${name}: not JSON (${(err as Error).message}); expected the output of "palisade analyze --json"`, 'E_ANALYSIS');
  }
  const o = doc as Partial<Analysis> | null;
  if (!o || typeof o !== 'object' || !o.capture || !o.traffic || !Array.isArray(o.attacks) || !Array.isArray(o.traffic.timeline))
    throw new InputError(
      `${name}: not an analysis (needs capture, traffic and attacks); expected the output of "palisade analyze --json"`,
      'E_ANALYSIS',
    );
  return o as Analysis;
}

export function readAnalysis(path: string): Analysis {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 'E_ANALYSIS');
  }
  return parseAnalysis(text, path);
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
export { buildReport, renderHtml, renderMarkdown };
