import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Principal } from '../../auth/principal';
import { AppConfig } from '../../config/app-config';
import { projectScope } from '../scope';
import { invalid } from '../window/reports-input';
import { isoMillis, WindowService } from '../window/window.service';
import { DetailLineRow, DetailQuery, DetailRepository, DetailSumRow, DETAIL_KEYSET, Statement } from './detail.repository';
import { EntitiesQueryDto } from './dto/entities-query.dto';
import { decodeCursor, encodeCursor, queryDigest } from '../paging';
import { WITHOUT_JIT } from '../rollups/rollup.repository';
import { inSnapshot } from '../../database/snapshot';
import { UsageWarning } from '../usage/usage-report.service';
import { quantityHours, UNITS } from '../usage/units';
import { UsageReportRepository } from '../usage/usage-report.repository';
import { RatingRepository } from '../rating/engine/rating.repository';
import { Sql } from '../../database/query-result';

/** One line of `/reports/usage/entities` (§3.2), keys in the contract's order (also the CSV columns). */
export type DetailLine = {
  source: string;
  project_id: string;
  site: string;
  entity_id: string;
  name: string | null;
  meter: string;
  key: string;
  subkey: string;
  unit: string;
  span_start: string;
  span_end: string;
  quantity: string;
  quantity_hours: string | null;
  unsized: boolean;
  vcpus: number | null;
  ram_mb: number | null;
  disk_gb: number | null;
  size_gb: number | null;
  username: string | null;
  local_record_id: string | null;
  record_type: string | null;
  cost: string | null;
  priced: boolean | null;
};

/** The CSV columns of the route: the fields of its JSON lines, in order (§1.7). */
export const DETAIL_COLUMNS: readonly (keyof DetailLine)[] = [
  'source',
  'project_id',
  'site',
  'entity_id',
  'name',
  'meter',
  'key',
  'subkey',
  'unit',
  'span_start',
  'span_end',
  'quantity',
  'quantity_hours',
  'unsized',
  'vcpus',
  'ram_mb',
  'disk_gb',
  'size_gb',
  'username',
  'local_record_id',
  'record_type',
  'cost',
  'priced',
];

export type Warning = UsageWarning;

export interface DetailAnswer {
  window: { start: string; end: string; tz: string; period: string | null };
  as_of: string;
  complete: boolean;
  pending_cells: number;
  lag_seconds: number;
  currency: string | null;
  rows: DetailLine[];
  totals: {
    by_meter: { meter: string; unit: string; quantity: string; quantity_hours: string | null }[];
    cost: string | null;
    cost_complete: boolean | null;
  };
  next_cursor: string | null;
  warnings: Warning[];
}

/** What the CSV form of the route hands to the exporter: one ordered SELECT, its columns and the row mapping. */
export interface DetailExport extends Statement {
  columns: readonly string[];
  row: (row: Record<string, unknown>) => DetailLine;
  /** For the file name (the exporter's CsvFileWindow). */
  window: { start: Date; end: Date; period: string | null };
}

const ROUTE = 'usage/entities';

/**
 * The keyset a cursor carries, checked before it reaches a cast: strings
 * without NUL, span_start in the form the lines carry and a real instant
 * (2025-02-30 would fail the cast: a forged cursor is a 400, never a 500).
 */
function lineKey(key: unknown[]): string[] {
  if (!key.every((v): v is string => typeof v === 'string' && !v.includes('\u0000')) || !isMicrosInstant(key[3] as string)) {
    throw invalid('cursor', 'is not a cursor of this report');
  }
  return key as string[];
}

function isMicrosInstant(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(text)) return false;
  const t = new Date(`${text.slice(0, 23)}Z`);
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 23) === text.slice(0, 23);
}

/**
 * `GET /reports/usage/entities` (reports.md §3.2): the lines behind a usage
 * report, from raw history, paged by keyset (§1.6), totals over the whole
 * result on every page. Each page is read in one REPEATABLE READ snapshot
 * at its own as_of.
 */
@Injectable()
export class DetailService {
  constructor(
    private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly windows: WindowService,
    private readonly lines: DetailRepository,
    private readonly usage: UsageReportRepository,
    private readonly rating: RatingRepository,
  ) {}

  async entities(principal: Principal, query: EntitiesQueryDto): Promise<DetailAnswer> {
    const projects = projectScope(principal, query.project_id);
    return inSnapshot(this.db, WITHOUT_JIT, async (tx) => {
      // Field errors in the order of the route's parameters: window, currency, cursor.
      const window = await this.windows.resolve(query, tx);
      const currency = await this.currency(query, tx);
      const digest = queryDigest(query, ROUTE);
      const after = query.cursor !== undefined ? lineKey(decodeCursor(query.cursor, digest, DETAIL_KEYSET.length)) : null;
      const limit = query.limit ?? 1000;
      const detail = this.detailQuery(query, projects, window, currency);
      const page = await this.lines.page(detail, after, limit + 1, tx);
      const sums = await this.lines.sums(detail, tx);
      // Freshness as /reports/usage gives it for the same scope: whether the
      // aggregate report agrees with these lines yet (§3.1, §5.5).
      const endCut = window.end < window.as_of ? window.end : window.as_of;
      const fresh =
        endCut > window.start && !(projects !== undefined && projects.length === 0)
          ? await this.usage.freshness(window.start, endCut, projects ?? null, detail.sites ?? null, tx)
          : { pending_cells: 0, lag_seconds: 0, booked_day: '', last_day: '' };
      const more = page.length > limit;
      const rows = more ? page.slice(0, limit) : page;
      const last = rows[rows.length - 1];
      return {
        window: { start: isoMillis(window.start), end: isoMillis(window.end), tz: window.tz, period: window.period },
        as_of: isoMillis(window.as_of),
        complete: fresh.pending_cells === 0 && !(fresh.last_day > fresh.booked_day),
        pending_cells: fresh.pending_cells,
        lag_seconds: fresh.lag_seconds,
        currency,
        rows: rows.map(lineMapper(principal, currency)),
        totals: totalsOf(sums, currency),
        next_cursor: more ? encodeCursor(digest, DETAIL_KEYSET.map((k) => last[k])) : null,
        warnings: warningsOf(sums, currency),
      };
    });
  }

  /**
   * The CSV form (§1.7): the statement of every line in order, its columns
   * and the mapping of a database row to the JSON line. Validation (window,
   * scope, currency) happens here, before any byte is sent.
   */
  async export(principal: Principal, query: EntitiesQueryDto): Promise<DetailExport> {
    const projects = projectScope(principal, query.project_id);
    const window = await this.windows.resolve(query);
    const currency = await this.currency(query);
    const statement = this.lines.linesStatement(this.detailQuery(query, projects, window, currency));
    const map = lineMapper(principal, currency);
    return {
      ...statement,
      columns: DETAIL_COLUMNS,
      row: (row) => map(row as unknown as DetailLineRow),
      window: { start: new Date(isoMillis(window.start)), end: new Date(isoMillis(window.end)), period: window.period },
    };
  }

  /**
   * The currency of the answer (§3.1, §3.2): the one asked for, which must
   * have a price list (else 400), or REPORT_CURRENCY, echoed even with no
   * list (every line then unpriced); null: no cost columns.
   */
  private async currency(query: EntitiesQueryDto, sql?: Sql): Promise<string | null> {
    if (query.currency !== undefined && !(await this.rating.currencyHasList(query.currency, sql))) throw invalid('currency', `no price list for ${query.currency}`);
    return query.currency ?? this.config.reportCurrency ?? null;
  }

  private detailQuery(query: EntitiesQueryDto, projects: string[] | undefined, window: { start: string; end: string; as_of: string }, currency: string | null): DetailQuery {
    return {
      currency: currency ?? undefined,
      start: window.start,
      end: window.end,
      asOf: window.as_of,
      cloudSite: this.config.cloudSite,
      projects,
      sites: distinct(query.site),
      sources: distinct(query.source),
      meters: distinct(query.meter),
      flavors: distinct(query.flavor),
      volumeTypes: distinct(query.volume_type),
      resources: distinct(query.resource),
      recordTypes: distinct(query.record_type),
    };
  }
}

function distinct(values: string[] | undefined): string[] | undefined {
  return values?.length ? [...new Set(values)] : undefined;
}

/**
 * A database row as the line of the answer: the unit and quantity_hours of
 * its meter, `username` hidden from a `user` unless it is the token's own
 * user id (§1.3), and the cost columns (null without a currency).
 */
function lineMapper(principal: Principal, currency: string | null): (row: DetailLineRow) => DetailLine {
  const hide = (username: string | null) => principal.role === 'user' && username !== null && username !== principal.userId;
  return (row) => {
    const unit = UNITS[row.meter];
    return {
      source: row.source,
      project_id: row.project_id,
      site: row.site,
      entity_id: row.entity_id,
      name: row.name,
      meter: row.meter,
      key: row.key,
      subkey: row.subkey,
      unit,
      span_start: row.span_start,
      span_end: row.span_end,
      quantity: row.quantity,
      quantity_hours: quantityHours(row.meter, row.quantity),
      unsized: row.unsized,
      vcpus: row.vcpus,
      ram_mb: row.ram_mb,
      disk_gb: row.disk_gb,
      size_gb: row.size_gb,
      username: hide(row.username) ? null : row.username,
      local_record_id: row.local_record_id,
      record_type: row.record_type,
      cost: currency === null ? null : row.cost,
      priced: currency === null ? null : row.priced,
    };
  };
}

function totalsOf(sums: DetailSumRow[], currency: string | null): DetailAnswer['totals'] {
  const byMeter = sums
    .filter((s): s is DetailSumRow & { meter: string; quantity: string } => s.meter !== null && s.key === null)
    .map((s) => {
      return { meter: s.meter, unit: UNITS[s.meter], quantity: s.quantity, quantity_hours: quantityHours(s.meter, s.quantity) };
    });
  // As /reports/usage: the Σ of the priced lines' costs (null when none is priced), complete when no line is unpriced.
  const all = sums.find((s) => s.meter === null);
  return { by_meter: byMeter, cost: currency === null ? null : (all?.cost ?? null), cost_complete: currency === null ? null : !(all?.unpriced ?? false) };
}

/** §3.1 warnings, sorted by code, meter, key: unpriced usage (with a currency) and flavors missing from the catalogue. */
function warningsOf(sums: DetailSumRow[], currency: string | null): Warning[] {
  const perKey = sums.filter((s): s is DetailSumRow & { meter: string; key: string } => s.meter !== null && s.key !== null);
  const unpriced: Warning[] =
    currency === null
      ? []
      : perKey
          .filter((s) => s.unpriced)
          .map((s) => ({ code: 'unpriced', meter: s.meter, key: s.key, message: `no price item in ${currency} covers ${s.meter} ${JSON.stringify(s.key)}` }));
  const unsized: Warning[] = perKey
    .filter((s) => s.unsized)
    .map((s) => ({
      code: 'unsized',
      meter: s.meter,
      key: s.key,
      message: `flavor ${JSON.stringify(s.key)} is not in the flavor catalogue: it counts in instance.time but not in vCPU, RAM or disk`,
    }));
  return [...unpriced, ...unsized];
}
