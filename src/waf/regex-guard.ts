/**
 * V8's fallback from the backtracking regex engine to its linear-time engine when a match
 * backtracks excessively: without it some CRS patterns can run for minutes on hostile values.
 *
 * The switch is process-wide (V8 flags), so importing the WAF does not flip it: a library must
 * not change how every regex of its host process runs. The application that owns the process
 * calls this once, before `createWaf` (V8 reads the flags when a pattern is first compiled, so
 * patterns compiled before the call keep running without the fallback). `palisade waf serve`
 * does, which is also what `npm run bench -- waf` measures.
 */
import { setFlagsFromString } from 'node:v8';

let enabled = false;

export function enableRegexBacktrackFallback(): void {
  if (enabled) return;
  enabled = true;
  setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  setFlagsFromString('--regexp-backtracks-before-fallback=10000');
}
