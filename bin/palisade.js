#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (tsc). main() never rejects: it
// prints whatever a command throws and returns the exit code (src/cli/main.ts reportError).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
