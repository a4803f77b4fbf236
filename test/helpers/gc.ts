/** Counting garbage collections around a piece of code: the no-allocation tests of hot paths. */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;

/**
 * Garbage collections that started while fn ran (the observer reports them asynchronously).
 * A full collection first empties the young generation, so any collection inside the window
 * means fn itself allocated at least a semi-space's worth.
 *
 * The fewest over up to `tries` runs: code that allocates per call collects in every run, while
 * on a loaded CI machine one run now and then catches a collection of V8's own (a tier-up or
 * deoptimisation mid-loop), which says nothing about the code under test.
 */
export async function gcsDuring(fn: () => void, tries = 3): Promise<number> {
  let fewest = Number.POSITIVE_INFINITY;
  for (let k = 0; k < tries && fewest > 0; k++) fewest = Math.min(fewest, await gcsOnce(fn));
  return fewest;
}

async function gcsOnce(fn: () => void): Promise<number> {
  const starts: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) starts.push(e.startTime);
  });
  obs.observe({ entryTypes: ['gc'] });
  collect();
  const t0 = performance.now();
  fn();
  const t1 = performance.now();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return starts.filter((t) => t >= t0 && t <= t1).length;
}
