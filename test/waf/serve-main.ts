// Runs `palisade waf ...` from source (through tsx) so tests exercise the current code without a
// build, and without loading the other CLI commands.
import { Command } from 'commander';
import { register } from '../../src/cli/commands/waf.js';

const program = new Command('palisade');
register(program);
await program.parseAsync(process.argv.slice(2), { from: 'user' });
