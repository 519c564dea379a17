import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Principal } from '../../../auth/principal';
import { AppConfig } from '../../../config/app-config';
import { DomainError } from '../../../http/domain-error';
import { Exact } from '../../decimal';
import { decodeCursor, encodeCursor, queryDigest } from '../../paging';
import { projectScope } from '../../scope';
import { invalid } from '../../window/reports-input';
import { WindowService } from '../../window/window.service';
import { decimalText } from '../../rating/price-lists/exact-json';
import { AccruedTodayService } from '../figures/accrued-today.service';
import { BudgetLedgerService } from '../ledger/budget-ledger.service';
import { BudgetPolicy, BudgetPolicyService } from '../policy/budget-policy.service';
import { BudgetsError } from './budgets.errors';
import { BudgetRecord, BudgetsRepository, ENTRY_ANSWER_COLUMNS } from './budgets.repository';
import { BudgetLedgerQuery, BudgetPolicyDto, BudgetState, GetBudgetQuery, ListBudgetsQuery, ManualEntryDto, thresholdNumbers } from './dto/budgets.dto';
import { BudgetEntryView, BudgetLedgerView, BudgetListView, BudgetPolicyView, BudgetView } from './dto/budgets.views';

/** The CSV columns of `GET /reports/budgets` (1.7): the budget object's fields, nested objects flattened; the two lists as JSON text. */
export const BUDGET_CSV_COLUMNS = [
  'project_id', 'unit', 'allocation_id', 'period.start', 'period.end', 'granted', 'consumed', 'held', 'available', 'accrued_today', 'outside_period',
  'ratio', 'state', 'policy.thresholds', 'policy.overdraft', 'thresholds', 'burn_rate_per_day', 'forecast_exhausted_at', 'as_of', 'lag_seconds',
] as const;

/** What a CSV route hands to the exporter. */
export interface ExportHandover {
  sql: string;
  params: unknown[];
  columns: readonly string[];
  row?: (row: Record<string, unknown>) => Record<string, unknown>;
  window?: { period: string | null; start: Date; end: Date } | null;
}

const notFound = (message: string) => new DomainError(BudgetsError.NotFound, message);
const SIGN: Record<ManualEntryDto['kind'], 1 | -1> = { manual_grant: 1, manual_credit: 1, manual_debit: -1 };
const DAY_SECONDS = 86_400;

/**
 * The budget routes (reports.md 6.5): budget objects from the balance row
 * (6.3) plus `accrued_today`, the policy, the current armings, burn rate and
 * forecast; the ledger; manual entries through BudgetLedgerService under the
 * budget's row lock; the policy.
 */
@Injectable()
export class BudgetsService {
  constructor(
    private readonly db: DataSource,
    private readonly repository: BudgetsRepository,
    private readonly ledger: BudgetLedgerService,
    private readonly policies: BudgetPolicyService,
    private readonly accrued: AccruedTodayService,
    private readonly windows: WindowService,
    private readonly config: AppConfig,
  ) {}

  async list(principal: Principal, query: ListBudgetsQuery): Promise<BudgetListView> {
    const scope = projectScope(principal, query.project_id);
    if (scope?.length === 0) return { budgets: [], next_cursor: null };
    const digest = queryDigest(query, 'budgets');
    let after = query.cursor !== undefined ? String(decodeCursor(query.cursor, digest, 1)[0]) : null;
    const limit = query.limit ?? 1000;
    const out: BudgetView[] = [];
    let more = false;
    // A state filter is on computed figures: read pages until the answer's page is full.
    for (;;) {
      const rows = await this.repository.current(scope ?? null, after, limit + 1);
      const views = (await this.views(rows, false)).filter((v) => query.state === undefined || v.state === query.state);
      out.push(...views);
      if (out.length > limit) {
        more = true;
        break;
      }
      if (rows.length <= limit) break;
      after = rows[rows.length - 1].project_id;
    }
    const page = out.slice(0, limit);
    return { budgets: page, next_cursor: more ? encodeCursor(digest, [page[page.length - 1].project_id]) : null };
  }

  /** The CSV form of the list: every budget computed now, handed over as one statement. */
  async listExport(principal: Principal, query: ListBudgetsQuery): Promise<ExportHandover> {
    const scope = projectScope(principal, query.project_id);
    const rows = scope?.length === 0 ? [] : await this.repository.current(scope ?? null, null, null);
    const views = (await this.views(rows, false)).filter((v) => query.state === undefined || v.state === query.state);
    return {
      ...this.repository.rowsExport(views),
      columns: BUDGET_CSV_COLUMNS,
      row: (row) => {
        const v = row.v as BudgetView;
        return { ...v, 'policy.thresholds': JSON.stringify(v.policy.thresholds), thresholds: JSON.stringify(v.thresholds) };
      },
    };
  }

  async get(principal: Principal, projectId: string, query: GetBudgetQuery): Promise<BudgetView> {
    const record = await this.budgetOf(principal, projectId, query.period_start);
    return (await this.views([record], query.series === 'day'))[0];
  }

  async entries(principal: Principal, projectId: string, query: BudgetLedgerQuery): Promise<BudgetLedgerView> {
    const record = await this.budgetOf(principal, projectId, query.period_start);
    const window = await this.window(query);
    const digest = queryDigest({ ...query, project_id: projectId }, 'budgets/ledger');
    const after = query.cursor !== undefined ? (decodeCursor(query.cursor, digest, 2).map(String) as [string, string]) : null;
    const limit = query.limit ?? 1000;
    const rows = await this.repository.entries(record.id, window, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      entries: page.map(({ k_posted: _p, k_id: _i, ...entry }) => entry),
      next_cursor: rows.length > limit && last ? encodeCursor(digest, [last.k_posted, last.k_id]) : null,
    };
  }

  async entriesExport(principal: Principal, projectId: string, query: BudgetLedgerQuery): Promise<ExportHandover> {
    const record = await this.budgetOf(principal, projectId, query.period_start);
    const window = await this.window(query);
    return {
      ...this.repository.entriesExport(record.id, window),
      columns: ENTRY_ANSWER_COLUMNS,
      window: window ? { period: window.period, start: new Date(window.start), end: new Date(window.end) } : null,
    };
  }

  /** A manual entry (6.5): to the budget whose period holds `at`; 404 when none. */
  async addEntry(projectId: string, body: ManualEntryDto, actor: Principal): Promise<BudgetEntryView> {
    const at = body.at !== undefined ? await this.instant(body.at, 'at') : null;
    const amount = new Exact(decimalText(body.amount)).times(SIGN[body.kind]).toFixed(6);
    const entry = await this.ledger.transaction(async (m) => {
      const budget = await this.ledger.lockAt(m, projectId, at ?? new Date());
      if (!budget) throw notFound(at ? 'The project has no budget whose period holds at' : 'The project has no current budget');
      const { entries } = await this.ledger.post(m, budget, [{ kind: body.kind, amount, at: at ?? new Date(), actor: actor.name, reason: body.reason, ref: null }]);
      return entries[0];
    });
    return { id: `le_${entry.id}`, kind: entry.kind, amount: entry.amount, at: entry.at, posted_at: entry.posted_at, ref: entry.ref, actor: entry.actor, reason: entry.reason };
  }

  /** Writes the project's policy (6.5); absent fields are the defaults, `{}` resets. */
  async putPolicy(projectId: string, body: BudgetPolicyDto): Promise<BudgetPolicyView> {
    const thresholds = body.thresholds !== undefined ? thresholdNumbers(body.thresholds) : null;
    const overdraft = body.overdraft !== undefined ? new Exact(decimalText(body.overdraft)).toFixed(6) : null;
    await this.repository.putPolicy(projectId, thresholds, overdraft);
    return this.policies.effective(this.db, projectId);
  }

  private async budgetOf(principal: Principal, projectId: string, periodStart: string | undefined): Promise<BudgetRecord> {
    projectScope(principal, [projectId]);
    const start = periodStart !== undefined ? await this.instant(periodStart, 'period_start') : null;
    const record = await this.repository.budget(projectId, start);
    if (!record) throw notFound(start ? 'The project has no budget starting then' : 'The project has no current budget');
    return record;
  }

  private async instant(value: string, field: string): Promise<string> {
    const at = await this.repository.instant(value, this.config.reportTimeZone);
    if (at === null) throw invalid(field, 'not a valid date or instant');
    return at;
  }

  /** The optional window on posted_at (1.5): resolved when any of its parameters is given. */
  private async window(query: BudgetLedgerQuery): Promise<{ start: string; end: string; period: string | null } | null> {
    if (query.start === undefined && query.end === undefined && query.period === undefined && query.tz === undefined) return null;
    const w = await this.windows.resolve(query);
    return { start: w.start, end: w.end, period: w.period };
  }

  /** Budget objects (6.5) of these rows, in their order. */
  private async views(rows: BudgetRecord[], withSeries: boolean): Promise<BudgetView[]> {
    if (rows.length === 0) return [];
    const tz = this.config.reportTimeZone;
    const projects = [...new Set(rows.map((r) => r.project_id))];
    const ids = rows.map((r) => r.id);
    const policies = await this.policies.effectiveMany(this.db, projects);
    const accrued = await this.accrued.of([...new Set(rows.filter((r) => r.current).map((r) => r.project_id))]);
    const crossings = await this.repository.crossings(ids);
    const burns = await this.repository.lastFourteenDays(ids, tz);
    const lags = await this.repository.lag(projects);
    const out: BudgetView[] = [];
    for (const r of rows) {
      const accruedToday = r.current ? (accrued.get(r.project_id) ?? '0.000000') : '0.000000';
      const policy = policies.get(r.project_id)!;
      const granted = new Exact(r.granted);
      const consumed = new Exact(r.consumed).plus(accruedToday);
      const available = granted.minus(consumed).minus(r.held);
      const rate = new Exact(burns.get(r.id) ?? 0).div(14);
      const own = crossings.get(r.id);
      const view: BudgetView = {
        project_id: r.project_id,
        unit: 'SU',
        allocation_id: r.allocation_id,
        period: { start: r.period_start, end: r.period_end },
        granted: granted.toFixed(6),
        consumed: consumed.toFixed(6),
        held: new Exact(r.held).toFixed(6),
        available: available.toFixed(6),
        accrued_today: new Exact(accruedToday).toFixed(6),
        outside_period: new Exact(r.outside_period).toFixed(6),
        ratio: granted.isZero() ? null : consumed.div(granted).toFixed(6),
        state: stateOf(granted, consumed, available, policy),
        policy: { thresholds: policy.thresholds, overdraft: new Exact(policy.overdraft).toFixed(6) },
        thresholds: policy.thresholds.map((percent) => ({ percent, crossed_at: own?.get(percent)?.crossed_at ?? null, event_id: own?.get(percent)?.event_id ?? null })),
        burn_rate_per_day: rate.toFixed(6),
        forecast_exhausted_at: forecast(r, available, rate),
        as_of: r.as_of,
        lag_seconds: lags.get(r.project_id) ?? 0,
      };
      if (withSeries) {
        let toDate = new Exact(0);
        view.series = (await this.repository.series(r.id, tz)).map((d) => {
          const day = new Exact(d.consumed).plus(d.today && r.current ? accruedToday : 0);
          toDate = toDate.plus(day);
          return { day: d.day, consumed: day.toFixed(6), consumed_to_date: toDate.toFixed(6) };
        });
      }
      out.push(view);
    }
    return out;
  }
}

/** 6.3's decision: the first that holds. */
export function stateOf(granted: Exact, consumed: Exact, available: Exact, policy: BudgetPolicy): BudgetState {
  if (available.lessThan(new Exact(policy.overdraft).negated())) return 'overdrawn';
  if (granted.isZero() || consumed.greaterThanOrEqualTo(granted)) return 'exhausted';
  const lowest = policy.thresholds[0];
  if (lowest !== undefined && consumed.times(100).greaterThanOrEqualTo(granted.times(lowest))) return 'warning';
  return 'ok';
}

/** 6.5: as_of + available ÷ rate days, truncated to the second; null when rate ≤ 0, available ≤ 0 or after the period end. */
export function forecast(r: { as_of_exact: string; period_end: string }, available: Exact, rate: Exact): string | null {
  if (rate.lessThanOrEqualTo(0) || available.lessThanOrEqualTo(0)) return null;
  const asOf = new Exact(Date.parse(`${r.as_of_exact.slice(0, 19)}Z`) / 1000).plus(`0.${r.as_of_exact.slice(20, 26)}`);
  const at = asOf.plus(available.div(rate).times(DAY_SECONDS)).floor();
  const end = Date.parse(r.period_end) / 1000;
  if (at.greaterThan(end)) return null;
  return new Date(at.toNumber() * 1000).toISOString();
}
