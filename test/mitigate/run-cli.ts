/** Runs the CLI from source (tests spawn this with tsx, so they need no build). */
import { main } from '../../src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`palisade: internal error: ${err?.stack ?? err}\n`);
    process.exitCode = 70;
  },
);
