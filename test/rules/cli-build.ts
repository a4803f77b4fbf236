/**
 * The rules tests run the built CLI (bin/palisade.js → dist/), as a user would. `npm test` builds
 * first; when run alone, this rebuilds dist if any source is newer than the build.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const CLI = 'bin/palisade.js';

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export function ensureBuilt(): void {
  const marker = 'dist/cli/commands/filter.js';
  if (existsSync(marker) && statSync(marker).mtimeMs >= Math.max(newest('src/rules'), newest('src/scheme'), statSync('src/cli/commands/filter.ts').mtimeMs)) return;
  try {
    execFileSync('npx', ['tsc', '-p', '.'], { stdio: 'ignore' });
  } catch {
    // tsc exits non-zero when any file in the tree has a type error; it still emits.
  }
}
