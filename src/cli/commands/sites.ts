import { Command } from 'commander';
import { EXIT_OK } from '../cli-error';
import { fields, printJson, table } from '../output';
import { CliContext, setExitStatus } from '../program';

/*
 * `usage-ledger sites …`: AMIE reporting sites and their keys (auth.md,
 * "Admin API"; not the allocations' site catalogue) through /admin/sites.
 * A key appears once, in what `create` or `rotate` prints.
 */

interface SiteView {
  name: string;
  created_at: string;
}

/** The one time a key is shown: on stdout, with a reminder on stderr. */
function printKey(context: CliContext, answer: { name: string; api_key: string; created_at?: string }, json: boolean | undefined): void {
  if (json) return printJson(context.output, answer);
  context.output.out(
    fields([
      ['name', answer.name],
      ...(answer.created_at !== undefined ? [['created_at', answer.created_at] as [string, string]] : []),
      ['api_key', answer.api_key],
    ]),
  );
  context.output.err('the key is shown only this once: give it to the site now (XA-Site and XA-API-Key)');
}

export function sitesCommands(program: Command, context: CliContext): void {
  const sites = program.command('sites').description('AMIE reporting sites and their API keys: create, list, rotate');

  sites
    .command('create')
    .description("create a site and print its key, the one time it is shown")
    .argument('<name>', 'the name the site sends in XA-Site')
    .option('--json', 'print the answer as JSON (the key in "api_key")')
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      const created = await context.client(command).post<SiteView & { api_key: string }>('/admin/sites', { name });
      printKey(context, created, options.json);
      setExitStatus(command, EXIT_OK);
    });

  sites
    .command('list')
    .description('list sites by name (never their keys)')
    .option('--json', 'print the list as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const list = await context.client(command).get<SiteView[]>('/admin/sites');
      if (options.json) printJson(context.output, list);
      else context.output.out(table(['name', 'created_at'], list.map((s) => [s.name, s.created_at])));
      setExitStatus(command, EXIT_OK);
    });

  sites
    .command('rotate')
    .description('give a site a new key and print it; the old key stops working at once')
    .argument('<name>', 'the site')
    .option('--json', 'print the answer as JSON (the key in "api_key")')
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      const rotated = await context.client(command).post<{ name: string; api_key: string }>(`/admin/sites/${encodeURIComponent(name)}/rotate`);
      printKey(context, rotated, options.json);
      setExitStatus(command, EXIT_OK);
    });
}
