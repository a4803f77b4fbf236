/** Runs the CLI from source (tsx), so tests that spawn it do not depend on the state of dist/. */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
