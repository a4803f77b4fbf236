#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (tsc).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`palisade: internal error: ${err?.stack ?? err}\n`);
    process.exitCode = 70;
  },
);
