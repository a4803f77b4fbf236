/**
 * Turns on V8's fallback from the backtracking regex engine to its linear-time engine when a
 * match backtracks excessively. This must run before any RegExp used by the WAF is created
 * (flags are read when a regex is compiled), which is why engine.ts imports it first.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
setFlagsFromString('--regexp-backtracks-before-fallback=10000');
