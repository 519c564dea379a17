import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Principal } from '../../auth/principal';
import { AppConfig } from '../../config/app-config';
import { RatingRepository } from '../rating/engine/rating.repository';
import { decodeCursor, encodeCursor, queryDigest, SortKey } from '../paging';
import { projectScope } from '../scope';
import { invalid } from '../window/reports-input';
import { isoMillis, ResolvedWindow, WindowService } from '../window/window.service';
import { UsageQueryDto } from './dto/usage-query.dto';
import { CsvExport } from '../export/csv-export.service';
import { ReportLevel } from '../report-level';
import { lineSelection } from '../rating/periods/period-lines-sql';
import { Granularity, GroupColumn, PAGE_SETTINGS, REPORT_SETTINGS, USAGE_LINE_FIELDS, UsageQuery, UsageReportRepository } from './usage-report.repository';
import { inSnapshot } from '../../database/snapshot';
import { quantityHours, UNITS } from './units';

const ALIASES: Record<string, GroupColumn> = { flavor: 'key', volume_type: 'key', resource: 'key', record_type: 'subkey' };
const SORT_KEY_LENGTH = 14;

export interface UsageWarning {
  code: 'unpriced' | 'unsized';
  meter: string;
  key: string;
  message: string;
}

/**
 * `GET /reports/usage` (reports.md §3.1): reads the window, the grouping and
 * the caller's scope, asks the rollups in one REPEATABLE READ snapshot, and
 * shapes the answer (units, hours, warnings, cost columns, the next cursor).
 */
@Injectable()
export class UsageReportService {
  constructor(
    private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly windows: WindowService,
    private readonly reports: UsageReportRepository,
    private readonly rating: RatingRepository,
  ) {}

  /** What every form of the report reads from the query before the database: 400s and 403s first. */
  private prepare(principal: Principal, query: UsageQueryDto) {
    const groupBy = groupColumns(query.group_by);
    if (query.view === 'live' && query.lines !== undefined && query.lines !== 'usage') throw invalid('view', 'live answers usage lines only');
    // A currency asked for must have a price list (§3.1, checked by `checkCurrency`); REPORT_CURRENCY
    // without one shows every row unpriced.
    const currency = query.currency ?? this.config.reportCurrency ?? null;
    const projects = projectScope(principal, query.project_id) ?? null;
    const granularity: Granularity = query.granularity ?? 'total';
    return { groupBy, currency, projects, granularity };
  }

  /** `currency` asked for with no price list at all in it: 400 (§3.1). */
  private async checkCurrency(query: UsageQueryDto): Promise<void> {
    if (query.currency !== undefined && !(await this.rating.currencyHasList(query.currency))) throw invalid('currency', `no price list for ${query.currency}`);
  }

  private usageQuery(query: UsageQueryDto, window: ResolvedWindow, prepared: ReturnType<UsageReportService['prepare']>, after: SortKey | null, limit: number): UsageQuery {
    const { groupBy, projects, granularity, currency } = prepared;
    return {
      start: window.start,
      end: window.end,
      asOf: window.as_of,
      tz: window.tz,
      period: window.period,
      granularity,
      groupBy,
      projects,
      sites: query.site ?? null,
      sources: query.source ?? null,
      meters: query.meter ?? null,
      flavors: query.flavor ?? null,
      volumeTypes: query.volume_type ?? null,
      resources: query.resource ?? null,
      recordTypes: query.record_type ?? null,
      currency,
      siteCells: !groupBy.includes('project_id') && projects === null,
      lines: lineSelection(query.view, query.lines),
      after: after as (string | boolean)[] | null,
      limit,
    };
  }

  /** The report as a CSV export (§1.7): the same rows in the same order, streamed from one snapshot. */
  async usageCsv(principal: Principal, query: UsageQueryDto): Promise<{ csv: CsvExport; level: ReportLevel }> {
    const prepared = this.prepare(principal, query);
    await this.checkCurrency(query);
    const window = await this.windows.resolve(query);
    const q = this.usageQuery(query, window, prepared, null, 0);
    const statement = this.reports.csvStatement(q);
    // The plan's level, read before the export's own snapshot (a day roll in between could move one day from raw to day cells),
    // with the report's settings: planned with JIT on, this statement (which reads no cell) compiled for 5.7 s.
    const level = await inSnapshot(this.db, REPORT_SETTINGS, (tx) => this.reports.level(q, tx));
    const csv: CsvExport = {
      route: 'usage',
      window: { period: window.period, start: new Date(isoMillis(window.start)), end: new Date(isoMillis(window.end)) },
      sql: statement.sql,
      params: statement.params,
      columns: USAGE_CSV_COLUMNS,
      // The line as the statement wrote it, with the currency (one object per row: a spread into a second one cost 1 s of an 860k-line export).
      row: (row) => Object.assign(row, { currency: prepared.currency }),
      bom: query.bom === '1',
      settings: { jit: 'off' },
    };
    return { csv, level };
  }

  /**
   * The report (§3.1) as `json`, the answer's text (its page of lines is the
   * database's JSON text, put in as it came: parsed and written again it cost
   * the API about 30 ms a 1,000-line page), `rows` the lines on the page, and
   * the finest cell level it read as `level` (for the metrics, §9.1).
   */
  async usage(principal: Principal, query: UsageQueryDto): Promise<{ json: string; rows: number; level: ReportLevel }> {
    const prepared = this.prepare(principal, query);
    const { groupBy, currency, projects, granularity } = prepared;
    const limit = query.limit ?? 1000;
    const digest = queryDigest(query, 'usage');
    const after = query.cursor !== undefined ? decodeCursor(query.cursor, digest, SORT_KEY_LENGTH) : null;
    await this.checkCurrency(query);

    return inSnapshot(this.db, PAGE_SETTINGS, async (tx) => {
      const window = await this.windows.resolve(query, tx);
      const endCut = window.end < window.as_of ? window.end : window.as_of;
      const empty = projects !== null && projects.length === 0;
      const answer = empty
        ? { rows: '[]', row_count: 0, next_key: null, totals: [], unsized_keys: [], unpriced_keys: [], cost_totals: { cost: null, complete: currency ? true : null }, level: 'month' as const, bucket_count: 0, zone: '' }
        : await this.page(this.usageQuery(query, window, prepared, after, limit), tx);
      const fresh =
        endCut > window.start && !empty
          ? await this.reports.freshness(window.start, endCut, projects, query.site ?? null, tx)
          : { pending_cells: 0, lag_seconds: 0, booked_day: '', last_day: '' };
      const warnings: UsageWarning[] = [
        ...(currency ? answer.unpriced_keys.map(([meter, key]) => ({ code: 'unpriced' as const, meter, key, message: `no price item in ${currency} covers ${meter} ${JSON.stringify(key)}` })) : []),
        ...answer.unsized_keys.map((key) => ({
          code: 'unsized' as const,
          meter: 'instance.time',
          key,
          message: `flavor ${JSON.stringify(key)} is not in the flavor catalogue: it counts in instance.time but not in vCPU, RAM or disk`,
        })),
      ].sort((a, b) => cmp(a.code, b.code) || cmp(a.meter, b.meter) || cmp(a.key, b.key));
      // The answer's fields in order, `rows` between the two halves.
      const before = {
        window: { start: isoMillis(window.start), end: isoMillis(window.end), tz: window.tz, period: window.period },
        as_of: isoMillis(window.as_of),
        complete: fresh.pending_cells === 0 && !(fresh.last_day > fresh.booked_day),
        pending_cells: fresh.pending_cells,
        lag_seconds: fresh.lag_seconds,
        granularity,
        group_by: groupBy,
        currency,
      };
      const afterRows = {
        totals: {
          by_meter: answer.totals.map((t) => ({ meter: t.meter, unit: UNITS[t.meter], quantity: t.quantity, quantity_hours: quantityHours(t.meter, t.quantity) })),
          cost: currency ? answer.cost_totals.cost : null,
          cost_complete: currency ? answer.cost_totals.complete : null,
        },
        next_cursor: answer.next_key ? encodeCursor(digest, answer.next_key) : null,
        warnings,
      };
      const json = `${JSON.stringify(before).slice(0, -1)},"rows":${answer.rows},${JSON.stringify(afterRows).slice(1)}`;
      return { json, rows: answer.row_count, level: answer.level };
    });
  }

  /** A page: from its first projects (`projectSlicePage`) or its first buckets (`bucketSlicePage`) when it can be, else the whole statement. */
  private async page(q: UsageQuery, tx: EntityManager) {
    return (await this.reports.projectSlicePage(q, tx)) ?? (await this.reports.bucketSlicePage(q, tx)) ?? (await this.reports.aggregate(q, tx));
  }
}

/** The CSV columns of the usage report, in the contract's order (§3.1): a line's fields, its currency before the price. */
export const USAGE_CSV_COLUMNS = USAGE_LINE_FIELDS.flatMap((field) => (field === 'unit_price' ? ['currency', field] : [field]));

/** `group_by` with its aliases resolved; `meter` is always grouped; a column named twice is a 400. */
function groupColumns(names: string[] | undefined): GroupColumn[] {
  const given = names ?? ['project_id', 'key', 'subkey'];
  const columns: GroupColumn[] = [];
  const namedAs = new Map<GroupColumn, string>();
  for (const name of given) {
    if (name === 'meter') continue;
    const column = ALIASES[name] ?? (name as GroupColumn);
    const earlier = namedAs.get(column);
    if (earlier !== undefined) {
      throw invalid('group_by', earlier === name ? `${name} is named twice` : `${name} and ${earlier} both name ${column}`);
    }
    namedAs.set(column, name);
    columns.push(column);
  }
  return columns;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
