/** Runs the CLI from source (tsx), so tests that spawn it do not depend on the state of dist/. */
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
