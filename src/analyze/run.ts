/** analyzeCapture: read a capture through the decoders into an Analyzer (library entry point). */
import { readCapture } from '../sources/capture.js';
import { Analyzer } from './analyzer.js';
import type { Analysis } from './types.js';

export interface AnalyzeOptions {
  top?: number;
  onProgress?: (done: number, total?: number) => void;
}

export async function analyzeCapture(path: string, opts: AnalyzeOptions = {}): Promise<Analysis> {
  const analyzer = new Analyzer({ top: opts.top ?? 10 });
  const info = await readCapture(path, (v) => analyzer.add(v), { onProgress: opts.onProgress });
  return analyzer.result(info);
}
