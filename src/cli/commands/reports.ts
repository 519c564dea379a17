import { Command, InvalidArgumentError, Option } from 'commander';
import { CliError, EXIT_MISMATCH, EXIT_OK } from '../cli-error';
import { followJob, Job, jobFailure } from '../follow-job';
import { table } from '../output';
import { CliContext, setExitStatus } from '../program';

/*
 * `usage-ledger reports …` (reports.md 7.5): check and rebuild through
 * POST /admin/reports/consistency-checks, then follow the job.
 */

const MISMATCH_ROWS_SHOWN = 50;

function day(option: string) {
  return (value: string): string => {
    const ms = Date.parse(`${value}T00:00:00Z`);
    if (!/^\d{4}-\d\d-\d\d$/.test(value) || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) {
      throw new InvalidArgumentError(`${option} must be a day YYYY-MM-DD`);
    }
    return value;
  };
}

function positiveInteger(value: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return Number(value);
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `--to` is included: the window ends at the start of the day after it. */
function windowOf(from: string, to: string): { start: string; end: string } {
  if (to < from) throw new CliError('--to must not be before --from');
  const end = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { start: from, end };
}

interface WindowOptions {
  from: string;
  to: string;
  project: string[];
  json?: boolean;
  pollMs: number;
}

function windowCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .requiredOption('--from <day>', 'first local day, YYYY-MM-DD', day('--from'))
    .requiredOption('--to <day>', 'last local day, YYYY-MM-DD (included)', day('--to'))
    .option('--project <id>', 'only this project (repeatable)', collect, [] as string[])
    .option('--json', 'print nothing but the finished job as JSON')
    .addOption(new Option('--poll-ms <ms>', 'how often the job is polled').argParser(positiveInteger).default(500).hideHelp());
}

function printJob(context: CliContext, job: Job, json: boolean | undefined): void {
  if (json) context.output.out(JSON.stringify(job, null, 2));
}

async function startAndFollow(context: CliContext, command: Command, options: WindowOptions, extra: Record<string, unknown>): Promise<Job> {
  const client = context.client(command);
  const body = { ...windowOf(options.from, options.to), ...(options.project.length ? { project_ids: options.project } : {}), ...extra };
  const created = await client.post<Job>('/admin/reports/consistency-checks', body);
  if (!options.json) context.output.err(`${created.kind} job ${created.id} started`);
  const job = await followJob(client, created, context.output, { progress: !options.json, pollMs: options.pollMs });
  printJob(context, job, options.json);
  const failure = jobFailure(job);
  if (failure) throw failure;
  return job;
}

export function reportsCommands(program: Command, context: CliContext): void {
  const reports = program.command('reports').description('rollup checks and rebuilds');

  reports.addCommand(
    windowCommand('check', 'check the rollups of local days against raw history; exit 1 when a cell differs')
      .option('--sample <n>', 'check n random project-days instead of all', positiveInteger)
      .option('--repair', 'mark each mismatched key dirty, so that the rollup worker recomputes it')
      .action(async (options: WindowOptions & { sample?: number; repair?: boolean }, command: Command) => {
        const job = await startAndFollow(context, command, options, {
          ...(options.sample !== undefined ? { sample: options.sample } : {}),
          ...(options.repair ? { repair: true } : {}),
        });
        const result = (job.result ?? {}) as {
          cells_checked?: number;
          skipped_dirty?: number;
          skipped_detached?: number;
          mismatch_count?: number;
          keys_repaired?: number;
          mismatches?: Record<string, unknown>[];
        };
        const count = result.mismatch_count ?? 0;
        if (!options.json) {
          const summary: [string, number][] = [
            ['cells checked', result.cells_checked ?? 0],
            ['skipped (dirty)', result.skipped_dirty ?? 0],
            ['skipped (detached)', result.skipped_detached ?? 0],
            ['mismatches', count],
          ];
          if (result.keys_repaired !== undefined) summary.push(['keys marked dirty (repair)', result.keys_repaired]);
          context.output.out(table(['', 'count'], summary));
          const rows = (result.mismatches ?? []).slice(0, MISMATCH_ROWS_SHOWN);
          if (rows.length) {
            context.output.out('');
            context.output.out(
              table(
                ['invariant', 'project', 'site', 'day', 'meter', 'key', 'subkey', 'stored', 'recomputed'],
                rows.map((m) => ['invariant', 'project_id', 'site', 'day', 'meter', 'key', 'subkey', 'stored', 'recomputed'].map((f) => (m[f] as string | null) ?? null)),
              ),
            );
            if (count > rows.length) context.output.out(`… and ${count - rows.length} more (--json lists the first 1000)`);
          }
        }
        setExitStatus(command, count > 0 ? EXIT_MISMATCH : EXIT_OK);
      }),
  );

  reports.addCommand(
    windowCommand('rebuild', 'mark every rollup key of local days dirty, so that the worker recomputes them').action(async (options: WindowOptions, command: Command) => {
      const job = await startAndFollow(context, command, options, { rebuild: true });
      if (!options.json) context.output.out(table(['', 'count'], [['keys marked dirty', Number((job.result ?? {}).keys_marked ?? 0)]]));
      setExitStatus(command, EXIT_OK);
    }),
  );
}
