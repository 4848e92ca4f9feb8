/**
 * `ollystack-agent`: the agent's own command, the entry of the single-file agent that
 * `npm run build:agent` bundles (dist/ollystack-agent.mjs). A host needs that file and Node.js
 * 24, nothing else; it runs in about half the memory of the agent run from the sources, since
 * nothing is compiled at start and only the agent's code is loaded.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.ts';
import { registerAgentCommand } from './agent.ts';
import { CliError } from './errors.ts';
import pkg from '../../package.json' with { type: 'json' };

const program = new Command();
program.name('ollystack-agent').description('OllyStack host agent').version(pkg.version).showHelpAfterError().exitOverride();
registerAgentCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof ConfigError || err instanceof CliError) {
    process.stderr.write(`ollystack-agent: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`ollystack-agent: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
