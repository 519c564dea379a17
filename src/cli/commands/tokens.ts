import { Command, Option } from 'commander';
import { CliError, EXIT_OK } from '../cli-error';
import { fields, printJson, table } from '../output';
import { CliContext, setExitStatus } from '../program';

/*
 * `usage-ledger tokens …`: the credentials of auth.md ("Admin API") through
 * POST, GET and DELETE /admin/tokens. The secret appears once, in what
 * `tokens create` prints; nothing else here ever holds it.
 */

const ROLES = ['admin', 'service', 'reader', 'user'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A token as `GET /admin/tokens` lists it (auth.md). */
interface TokenView {
  id: string;
  name: string;
  role: string;
  user_id: string | null;
  project_ids: string[];
  created_at: string;
}

const collect = (value: string, previous: string[]) => [...previous, ...value.split(',').filter(Boolean)];

/**
 * The id to revoke. Anything that is not a UUID is refused here, before it
 * goes on the wire: a secret pasted by mistake in place of an id would
 * otherwise travel in a URL (and the server's access log), and be quoted
 * in the error message.
 */
function tokenId(value: string): string {
  // A CliError, not commander's InvalidArgumentError: commander quotes the refused value.
  if (!UUID.test(value)) throw new CliError('not a token id: ids are UUIDs, as `usage-ledger tokens list` shows them (the argument is not repeated here: it may be a secret)');
  return value.toLowerCase();
}

export function tokensCommands(program: Command, context: CliContext): void {
  const tokens = program.command('tokens').description('API tokens (X-Auth-Token): create, list, revoke');

  tokens
    .command('create')
    .description('create a token and print its secret, the one time it is shown')
    .requiredOption('--name <name>', 'a label; commissions are owned by it, need not be unique')
    .addOption(new Option('--role <role>', 'what it may do').choices(ROLES).makeOptionMandatory())
    .option('--user-id <id>', 'the person behind it (required for role user)')
    .option('--project <id>', 'a project a user token may see (repeatable or comma-separated)', collect, [] as string[])
    .option('--json', 'print the answer as JSON (the secret in "token")')
    .action(async (options: { name: string; role: string; userId?: string; project: string[]; json?: boolean }, command: Command) => {
      const client = context.client(command);
      const created = await client.post<TokenView & { token: string }>('/admin/tokens', {
        name: options.name,
        role: options.role,
        ...(options.userId !== undefined ? { user_id: options.userId } : {}),
        ...(options.project.length ? { project_ids: options.project } : {}),
      });
      if (options.json) printJson(context.output, created);
      else {
        context.output.out(
          fields([
            ['id', created.id],
            ['name', created.name],
            ['role', created.role],
            ['user_id', created.user_id],
            ['project_ids', created.project_ids.join(', ')],
            ['created_at', created.created_at],
            ['token', created.token],
          ]),
        );
        context.output.err('the token is shown only this once: store it now (X-Auth-Token)');
      }
      setExitStatus(command, EXIT_OK);
    });

  tokens
    .command('list')
    .description('list tokens, oldest first (never their secrets)')
    .option('--json', 'print the list as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const list = await context.client(command).get<TokenView[]>('/admin/tokens');
      if (options.json) printJson(context.output, list);
      else
        context.output.out(
          table(
            ['id', 'name', 'role', 'user_id', 'projects', 'created_at'],
            list.map((t) => [t.id, t.name, t.role, t.user_id, t.project_ids.join(','), t.created_at]),
          ),
        );
      setExitStatus(command, EXIT_OK);
    });

  tokens
    .command('revoke')
    .description('delete a token by id; it stops working at once')
    .argument('<id>', 'the token id (a UUID, from `tokens list`)')
    .option('--json', 'print {"id", "revoked": true} as JSON')
    // A secret pasted in place of the id may start with "-" (base64url): it is then the id, refused by tokenId, not an unknown option.
    .allowUnknownOption()
    .action(async (argument: string, options: { json?: boolean }, command: Command) => {
      const id = tokenId(argument);
      await context.client(command).delete(`/admin/tokens/${encodeURIComponent(id)}`);
      if (options.json) printJson(context.output, { id, revoked: true });
      else context.output.out(`token ${id} revoked`);
      setExitStatus(command, EXIT_OK);
    });
}
