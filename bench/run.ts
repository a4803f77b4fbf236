/**
 * `npm run bench [-- name ...]`: runs bench/<name>.bench.ts in order and prints each one's
 * side-by-side figures. Benches generate their own inputs deterministically under out/bench/.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.bench\.ts$/, '')))
  .sort();

// A name that matches no bench is a usage error (exit 2); nothing runs.
if (files.length === 0) {
  process.stderr.write(`bench: nothing matches ${wanted.join(' ')}\n`);
  process.exitCode = 2;
}
for (const f of files) {
  process.stdout.write(`\n=== ${f.replace(/\.bench\.ts$/, '')} ===\n`);
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { default: () => Promise<void> };
  await mod.default();
}
