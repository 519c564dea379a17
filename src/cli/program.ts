import { Command, CommanderError, Option } from 'commander';
import { CliError, EXIT_ERROR, EXIT_OK, withheld } from './cli-error';
import { Connection, LedgerClient } from './ledger-client';
import { Output } from './output';

/** What every command gets: the output, and the client built from the global options. */
export interface CliContext {
  output: Output;
  /** The client for `--url`/`--token` (or LEDGER_URL/LEDGER_TOKEN); a CliError when the token is missing. */
  client(command: Command): LedgerClient;
}

/** A command group (`tokens`, `sites`, `flavors`, `reports`): adds its commands under the program. */
export type CommandGroup = (program: Command, context: CliContext) => void;

export const DEFAULT_URL = 'http://127.0.0.1:3000';

/**
 * The `usage-ledger` program: global connection options, then the command
 * groups. Argument errors and every CliError end with exit status 2 after
 * one line on stderr; commands set 0 or 1 themselves.
 */
export function buildProgram(output: Output, groups: CommandGroup[]): Command {
  const program = new Command('usage-ledger')
    .description("usage-ledger's operator CLI: an HTTP client of the service's admin API")
    .addOption(new Option('--url <url>', 'the service').env('LEDGER_URL').default(DEFAULT_URL))
    .addOption(new Option('--token <token>', 'an admin token').env('LEDGER_TOKEN'))
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => output.out(s.replace(/\n$/, '')),
      writeErr: (s) => output.err(s.replace(/\n$/, '')),
      outputError: (s, write) => write(withoutLongQuotes(s)),
    });
  const context: CliContext = {
    output,
    client(command: Command) {
      const options = command.optsWithGlobals<{ url: string; token?: string }>();
      if (!options.token) throw new CliError('--token (or LEDGER_TOKEN) is required: an admin token');
      const connection: Connection = { url: options.url, token: options.token };
      return new LedgerClient(connection);
    },
  };
  for (const group of groups) group(program, context);
  // Subcommands inherit the error handling.
  const inherit = (command: Command) => {
    for (const sub of command.commands) {
      sub.exitOverride().configureOutput(program.configureOutput());
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

/** Quoted values at least this long are not repeated in commander's errors: a secret (43 characters) could be one. */
const QUOTED_LIMIT = 24;

/**
 * Commander's error with every quoted value of QUOTED_LIMIT characters or
 * more replaced: it quotes what it refuses (an unknown option, an invalid
 * choice), and a secret pasted in the wrong place would be printed back.
 * Option names and commands are shorter.
 */
export function withoutLongQuotes(message: string): string {
  return message.replace(/'([^'\n]*)'/g, (quoted, value: string) =>
    value.length >= QUOTED_LIMIT ? withheld(value) : quoted,
  );
}

/** Runs the program on argv and answers the exit status. */
export async function runProgram(program: Command, argv: string[], output: Output): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return (program as Command & { exitStatus?: number }).exitStatus ?? EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; anything else commander refuses is a bad argument.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT_OK : EXIT_ERROR;
    }
    if (error instanceof CliError) {
      output.err(`usage-ledger: ${error.message}`);
      return error.exitCode;
    }
    output.err(`usage-ledger: ${(error as Error).message ?? String(error)}`);
    return EXIT_ERROR;
  }
}

/** Sets the status the program ends with (a command's own verdict: 0 or 1). */
export function setExitStatus(command: Command, status: number): void {
  let root = command;
  while (root.parent) root = root.parent;
  (root as Command & { exitStatus?: number }).exitStatus = status;
}
