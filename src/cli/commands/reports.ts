import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { CliError, EXIT_MISMATCH, EXIT_OK } from '../cli-error';
import { saveDownload, suggestedName } from '../export-file';
import { followJob, Job, jobFailure } from '../follow-job';
import { Query } from '../ledger-client';
import { printJson, table } from '../output';
import { CliContext, setExitStatus } from '../program';

/*
 * `usage-ledger reports …` (reports.md 7.5): check and rebuild through
 * POST /admin/reports/consistency-checks, then follow the job; export
 * streams the CSV form of a report route (1.7) to a file.
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
const collectList = (value: string, previous: string[]) => [...previous, ...value.split(',').filter(Boolean)];

/** `--param name=value`: any other query parameter of the route, passed as is. */
function param(value: string, previous: [string, string][]): [string, string][] {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError('must be name=value');
  return [...previous, [value.slice(0, at), value.slice(at + 1)]];
}

/** The report routes with a CSV form (reports.md 3.1, 3.2), by the name `reports export` takes. */
const EXPORT_ROUTES: Record<string, string> = { usage: '/reports/usage', entities: '/reports/usage/entities' };

interface ExportOptions {
  period?: string;
  start?: string;
  end?: string;
  tz?: string;
  project: string[];
  granularity?: string;
  groupBy?: string;
  currency?: string;
  bom?: boolean;
  param: [string, string][];
  out?: string;
  force?: boolean;
  json?: boolean;
}

function exportQuery(options: ExportOptions): Query {
  if (!options.period && !(options.start && options.end)) throw new CliError('a window is required: --period, or --start and --end');
  const query: Query = {
    format: 'csv',
    period: options.period,
    start: options.start,
    end: options.end,
    tz: options.tz,
    project_id: options.project.length ? options.project.join(',') : undefined,
    granularity: options.granularity,
    group_by: options.groupBy,
    currency: options.currency,
    bom: options.bom ? '1' : undefined,
  };
  for (const [name, value] of options.param) {
    const previous = query[name];
    query[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return query;
}

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
  const reports = program.command('reports').description('rollup checks and rebuilds, CSV exports');

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

  reports
    .command('export')
    .description('stream the CSV form of a report to a file, with a progress bar on a terminal')
    .addArgument(new Argument('<report>', 'usage (GET /reports/usage) or entities (GET /reports/usage/entities)').choices(Object.keys(EXPORT_ROUTES)))
    .option('--period <label>', 'the window as a local period: 2025-03 or 2025-03-14')
    .option('--start <instant>', 'window start (ISO 8601, or a local day)')
    .option('--end <instant>', 'window end, excluded')
    .option('--tz <zone>', 'the time zone of local days (default: the service\'s)')
    .option('--project <id>', 'only these projects (repeatable or comma-separated)', collectList, [] as string[])
    .option('--granularity <g>', 'usage: total, day or month')
    .option('--group-by <columns>', 'usage: comma-separated columns')
    .option('--currency <code>', 'include cost in this currency')
    .option('--bom', 'start the file with a UTF-8 BOM (for spreadsheet programs)')
    .option('--param <name=value>', 'any other query parameter of the route (repeatable)', param, [] as [string, string][])
    .option('-o, --out <file>', "the file to write (default: the service's file name, in the current directory)")
    .option('--force', 'replace the file when it exists')
    .option('--json', 'print {"file", "bytes", "rows"} as JSON when done')
    .action(async (report: string, options: ExportOptions, command: Command) => {
      const query = exportQuery(options);
      const client = context.client(command);
      if (options.out !== undefined && !options.force && (await stat(options.out).then(() => true, () => false))) {
        throw new CliError(`${options.out} exists: choose another --out, or --force to replace it`);
      }
      const download = await client.download(EXPORT_ROUTES[report], query, 'text/csv');
      if (!/^text\/csv\b/i.test(download.headers.get('content-type') ?? '')) throw new CliError(`GET ${EXPORT_ROUTES[report]}: the answer is not CSV (${download.headers.get('content-type') ?? 'no Content-Type'})`);
      const target = options.out ?? suggestedName(download.headers) ?? `${report}.csv`;
      const result = await saveDownload(download, target, { overwrite: Boolean(options.force), output: context.output, progress: !options.json });
      if (options.json) printJson(context.output, { ...result, file: resolve(result.file) });
      else context.output.out(`wrote ${result.file}: ${result.rows} rows, ${result.bytes} bytes`);
      setExitStatus(command, EXIT_OK);
    });
}
