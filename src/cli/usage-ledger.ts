#!/usr/bin/env node
/*
 * `usage-ledger`, the operator CLI (reports.md 7.5; package.json "bin"): an
 * HTTP client of the service's admin API. Command groups live in
 * src/cli/commands/, one file each; add a group to GROUPS.
 */
import { flavorsCommands } from './commands/flavors';
import { reportsCommands } from './commands/reports';
import { sitesCommands } from './commands/sites';
import { tokensCommands } from './commands/tokens';
import { processOutput } from './output';
import { buildProgram, CommandGroup, runProgram } from './program';

const GROUPS: CommandGroup[] = [tokensCommands, sitesCommands, flavorsCommands, reportsCommands];

void runProgram(buildProgram(processOutput, GROUPS), process.argv.slice(2), processOutput).then((status) => {
  process.exitCode = status;
});
