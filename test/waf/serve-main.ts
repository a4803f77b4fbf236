// Runs the CLI from source (through tsx) so tests exercise the current code without a build.
import { main } from '../../src/cli/main.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
