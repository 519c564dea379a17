import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { CliError, EXIT_OK } from '../cli-error';
import { detectFormat, FlavorFileError, FlavorFileFormat, FlavorInput, parseFlavorFile } from '../flavor-import';
import { printJson, table } from '../output';
import { CliContext, setExitStatus } from '../program';

/*
 * `usage-ledger flavors import <file>`: the flavor catalogue (reports.md
 * 2.4, 3.5) from what `openstack flavor list --long -f json` prints, or a
 * CSV. Reads GET /reports/flavors, then one PUT /admin/reports/flavors/{name}
 * per entry that changes; a PUT replaces the whole entry, so what the file
 * does not say (description, gpus, and the aliases beyond the OpenStack ID)
 * is kept from the stored entry. Entries the file does not name are left
 * alone: the import never deletes.
 */

/** A catalogue entry as GET /reports/flavors lists it. */
interface StoredFlavor {
  name: string;
  sized: boolean;
  aliases?: string[];
  vcpus?: number;
  ram_mb?: number;
  disk_gb?: number;
  gpus?: number;
  description?: string;
}

interface PutBody {
  aliases: string[];
  vcpus: number;
  ram_mb: number;
  disk_gb: number;
  gpus: number;
  description: string;
}

type Action = 'created' | 'replaced' | 'unchanged' | 'failed' | 'would create' | 'would replace';

interface Outcome {
  name: string;
  action: Action;
  flavor: PutBody;
  error?: string;
}

/** Byte order, as the service sorts aliases (reports.md 1.6). */
const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function desired(input: FlavorInput, stored: StoredFlavor | undefined): PutBody {
  const aliases = input.aliases ?? [...(stored?.aliases ?? []), ...input.extraAliases];
  return {
    aliases: [...new Set(aliases)].sort(byBytes),
    vcpus: input.vcpus,
    ram_mb: input.ram_mb,
    disk_gb: input.disk_gb,
    gpus: input.gpus ?? stored?.gpus ?? 0,
    description: input.description ?? stored?.description ?? '',
  };
}

function same(body: PutBody, stored: StoredFlavor): boolean {
  return (
    body.vcpus === stored.vcpus &&
    body.ram_mb === stored.ram_mb &&
    body.disk_gb === stored.disk_gb &&
    body.gpus === stored.gpus &&
    body.description === stored.description &&
    JSON.stringify(body.aliases) === JSON.stringify([...(stored.aliases ?? [])].sort(byBytes))
  );
}

async function readInput(file: string): Promise<string> {
  try {
    if (file === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

export function flavorsCommands(program: Command, context: CliContext): void {
  const flavors = program.command('flavors').description('the flavor catalogue of the reports');

  flavors
    .command('import')
    .description('create or replace catalogue entries from `openstack flavor list --long -f json` (or a CSV); never deletes')
    .argument('<file>', 'the JSON or CSV file; - reads stdin')
    .addOption(new Option('--format <format>', 'the file format (default: from the file name, else its first character)').choices(['json', 'csv']))
    .option('--add-ephemeral', "count the Ephemeral disk in disk_gb (default: the root Disk only)")
    .option('--dry-run', 'show what would change; write nothing')
    .option('--json', 'print the outcome of each entry as JSON')
    .action(async (file: string, options: { format?: FlavorFileFormat; addEphemeral?: boolean; dryRun?: boolean; json?: boolean }, command: Command) => {
      const text = await readInput(file);
      let inputs: FlavorInput[];
      try {
        inputs = parseFlavorFile(text, options.format ?? detectFormat(file, text), { addEphemeral: Boolean(options.addEphemeral) });
      } catch (error) {
        if (error instanceof FlavorFileError) throw new CliError(`${file === '-' ? 'stdin' : file}: nothing imported:\n${error.message}`);
        throw error;
      }
      const client = context.client(command);
      const catalogue = new Map(
        (await client.get<{ flavors: StoredFlavor[] }>('/reports/flavors')).flavors.filter((f) => f.sized).map((f) => [f.name, f] as const),
      );

      const outcomes: Outcome[] = [];
      for (const input of inputs) {
        const stored = catalogue.get(input.name);
        const body = desired(input, stored);
        if (stored && same(body, stored)) {
          outcomes.push({ name: input.name, action: 'unchanged', flavor: body });
        } else if (options.dryRun) {
          outcomes.push({ name: input.name, action: stored ? 'would replace' : 'would create', flavor: body });
        } else {
          try {
            const { status } = await client.put(`/admin/reports/flavors/${encodeURIComponent(input.name)}`, body);
            outcomes.push({ name: input.name, action: status === 201 ? 'created' : 'replaced', flavor: body });
          } catch (error) {
            // One refused entry (an alias another entry holds: 409) does not stop the others.
            if (!(error instanceof CliError)) throw error;
            outcomes.push({ name: input.name, action: 'failed', flavor: body, error: error.message });
          }
        }
      }

      const failed = outcomes.filter((o) => o.action === 'failed');
      if (options.json) printJson(context.output, { dry_run: Boolean(options.dryRun), results: outcomes });
      else {
        context.output.out(
          table(
            ['name', 'action', 'vcpus', 'ram_mb', 'disk_gb', 'gpus', 'aliases'],
            outcomes.map((o) => [o.name, o.action, o.flavor.vcpus, o.flavor.ram_mb, o.flavor.disk_gb, o.flavor.gpus, o.flavor.aliases.join(' ')]),
          ),
        );
        const count = (action: Action) => outcomes.filter((o) => o.action === action).length;
        context.output.err(
          options.dryRun
            ? `dry run: ${count('would create')} to create, ${count('would replace')} to replace, ${count('unchanged')} unchanged; nothing written`
            : `${count('created')} created, ${count('replaced')} replaced, ${count('unchanged')} unchanged, ${failed.length} failed`,
        );
        if (!options.dryRun && !failed.length) {
          const unsized = (await client.get<{ flavors: StoredFlavor[] }>('/reports/flavors')).flavors.filter((f) => !f.sized).map((f) => f.name);
          if (unsized.length) context.output.err(`history still has flavors the catalogue does not size: ${unsized.join(', ')}`);
        }
      }
      for (const o of failed) context.output.err(`usage-ledger: ${o.name}: ${o.error}`);
      if (failed.length) throw new CliError(`${failed.length} of ${outcomes.length} flavors were not imported`);
      setExitStatus(command, EXIT_OK);
    });
}
