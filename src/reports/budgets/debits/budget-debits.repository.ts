import { Injectable } from '@nestjs/common';
import { runOne, runRows, Sql } from '../../../database/query-result';
import { RECORDS_PER_RECEIPT } from '../../../usage/usage-receipt';
import { ENTRY_COLUMNS, ENTRY_KINDS, EntryRow, FIGURE_OF } from '../ledger/budget-ledger.service';

/** One AMIE record identity (amie-usage.md 5.3). */
export interface AmieIdentity {
  site: string;
  usage_type: string;
  resource: string;
  local_record_id: string;
}

/** The loaded version of an AMIE record and where it belongs (reports.md 2.2, 6.2). */
export interface AmieRecordState {
  /** `amie:<entity_id of 3.2>`. */
  ref: string;
  /** `<ref>@<receipt seq>`: the version, the entries' idempotency key. */
  source: string;
  usage_type: string;
  project_id: string;
  /** The attribution instant, ISO. */
  at: string;
  kind: 'amie_debit' | 'amie_credit';
  /** round_half_even(|charge| × rate, 6), unsigned. */
  su: string;
  /** The project's budget whose period contains `at`. */
  budget_id: string | null;
  /** Without one: the latest budget that ended at or before `at` (its `outside_period`). */
  outside_budget_id: string | null;
  /** A `held` hold of the same project naming this compute record (6.4 AMIE link). */
  hold_id: string | null;
  hold_budget_id: string | null;
}

/** A live (not reversed) AMIE entry, with the project and budget of its hold when it is a settlement. */
export interface LiveAmieEntry extends EntryRow {
  hold_project_id: string | null;
  hold_budget_id: string | null;
}

/** One booked (project, day) and where its accrual belongs (6.2, 7.2). */
export interface AccrualDay {
  project_id: string;
  day: string;
  /** `day:<YYYY-MM-DD>`. */
  ref: string;
  /** The start of the day, ISO. */
  at: string;
  /** Σ of the live SU rated day cells of the instance and volume meters. */
  cost: string;
  budget_id: string | null;
  outside_budget_id: string | null;
}

/** Σ of the accrual entries of one (project, day) in one budget. */
export interface AccrualPosted {
  project_id: string;
  ref: string;
  budget_id: string;
  amount: string;
  entries: number;
}

/** A row of report_budget_outside. */
export interface OutsideRow {
  project_id: string;
  ref: string;
  budget_id: string;
  amount: string;
}

/** A budget whose balance row or outside_period differs from what it sums. */
export interface BalanceDifference {
  budget_id: string;
  project_id: string;
  period_start: string;
  figure: 'granted' | 'consumed' | 'held' | 'outside_period';
  stored: string;
  summed: string;
}

const ISO = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** The accounting zone (reports.md 1.5); UTC before the reports module has first started. */
const ZONE = `(SELECT coalesce((SELECT time_zone FROM report_clock LIMIT 1), 'UTC') AS z)`;
/** The budget of `project` containing `at`, and the one before it for outside_period. */
const BUDGET_OF = (project: string, at: string) => `
  LEFT JOIN report_budget b ON b.project_id = ${project} AND b.period_start <= ${at} AND b.period_end > ${at}
  LEFT JOIN LATERAL (
    SELECT o.id FROM report_budget o WHERE o.project_id = ${project} AND o.period_end <= ${at} ORDER BY o.period_end DESC LIMIT 1
  ) ob ON b.id IS NULL`;

const kindsMoving = (figure: 'granted' | 'consumed' | 'held') => ENTRY_KINDS.filter((k) => FIGURE_OF[k] === figure);

const AMIE_KINDS = `('amie_debit', 'amie_credit', 'hold_settle')`;
const ACCRUAL_KINDS = `('accrual', 'accrual_adjustment')`;

/**
 * Every SQL statement of the budget debits (reports.md 6.2, I6): the loaded
 * AMIE versions with their SU amounts, the booked days' SU costs, the live
 * entries they are compared with, the outside-period rows and the AMIE
 * link's hold rows. Posting itself goes through BudgetLedgerService.
 */
@Injectable()
export class BudgetDebitsRepository {
  /** Whether any budget exists (a deployment without budgets pays one probe per load). */
  async anyBudget(sql: Sql): Promise<boolean> {
    return (await runOne(sql, `SELECT 1 AS one FROM report_budget LIMIT 1`)) !== undefined;
  }

  /** The identities whose version a batch applied (the rows of amie_usage_record it wrote). */
  async appliedBy(batchId: string, sql: Sql): Promise<AmieIdentity[]> {
    return runRows<AmieIdentity>(
      sql,
      `SELECT r.site, r.usage_type, r.resource, r.local_record_id
       FROM amie_usage_batch b CROSS JOIN LATERAL jsonb_array_elements(b.records::jsonb) AS x(e)
       JOIN amie_usage_record r ON r.site = b.site AND r.usage_type = b.usage_type AND r.resource = x.e->>'r' AND r.local_record_id = x.e->>'i'
       WHERE b.id = $1 AND r.batch_id = b.id
       ORDER BY r.resource COLLATE "C", r.local_record_id COLLATE "C"`,
      [batchId],
    );
  }

  /**
   * The loaded versions of `ids` with their SU amount (6.2 decision: the
   * unit_price of the project's SU list — its own, else the SU default — for
   * (`amie.charge`, Resource, record type) on the attribution day, item
   * choice of 4.5, 1 when none; round_half_even(|charge| × rate, 6)) and the
   * budget, outside-period budget and held hold they belong to.
   */
  async records(ids: AmieIdentity[], sql: Sql): Promise<AmieRecordState[]> {
    if (ids.length === 0) return [];
    return runRows<AmieRecordState>(
      sql,
      `WITH ids AS (SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS i(site, usage_type, resource, local_record_id)),
       r0 AS (
         SELECT r.site, r.usage_type, r.resource, r.local_record_id, r.seq, r.local_project_id, r.charge, r.adjustment_type,
                coalesce(r.usage_end, r.usage_start) AS at,
                CASE r.usage_type WHEN 'Compute' THEN 'compute' WHEN 'Storage' THEN 'storage' ELSE 'adjustment:' || r.adjustment_type END AS subkey,
                'amie:' || r.site || '/' || lower(r.usage_type) || '/' || r.resource || '/' || r.local_record_id AS ref
         FROM ids JOIN amie_usage_record r USING (site, usage_type, resource, local_record_id)),
       -- Only records that can concern a budget: the usual load (no budget anywhere) costs three index probes per record.
       r AS (
         SELECT * FROM r0 r WHERE EXISTS (SELECT 1 FROM report_budget x WHERE x.project_id = r.local_project_id)
           OR EXISTS (SELECT 1 FROM report_budget_entry e WHERE e.ref = r.ref)
           OR EXISTS (SELECT 1 FROM report_budget_outside o WHERE o.ref = r.ref))
       SELECT r.ref, r.ref || '@' || r.seq AS source, r.usage_type, r.local_project_id AS project_id, ${ISO('r.at')} AS at,
              CASE WHEN r.adjustment_type IN ('credit', 'refund', 'storage-credit') THEN 'amie_credit' ELSE 'amie_debit' END AS kind,
              report_round_half_even(abs(r.charge) * coalesce(item.unit_price, 1), 6)::numeric(30,6)::text AS su,
              b.id::text AS budget_id, ob.id::text AS outside_budget_id,
              h.id AS hold_id, h.budget_id::text AS hold_budget_id
       FROM r CROSS JOIN ${ZONE} tz
       CROSS JOIN LATERAL (SELECT coalesce(
         (SELECT lp.price_list_id FROM report_price_list_project lp WHERE lp.project_id = r.local_project_id AND lp.currency = 'SU'),
         (SELECT d.id FROM report_price_list d WHERE d.currency = 'SU' AND d.project_ids = '{}')) AS list) l
       LEFT JOIN LATERAL report_price_item_at(l.list, report_local_day(r.at, tz.z), 'amie.charge', r.resource, r.subkey) item ON TRUE
       ${BUDGET_OF('r.local_project_id', 'r.at')}
       LEFT JOIN report_budget_hold h ON r.usage_type = 'Compute' AND h.state = 'held' AND h.amie_site = r.site
         AND h.amie_resource = r.resource AND h.amie_local_record_id = r.local_record_id AND h.project_id = r.local_project_id
       ORDER BY r.ref COLLATE "C"`,
      [ids.map((i) => i.site), ids.map((i) => i.usage_type), ids.map((i) => i.resource), ids.map((i) => i.local_record_id)],
    );
  }

  /** The live (not reversed) AMIE debits, credits and settlements of `refs`, whatever their project. */
  async liveAmieEntries(refs: string[], sql: Sql): Promise<LiveAmieEntry[]> {
    if (refs.length === 0) return [];
    return runRows<LiveAmieEntry>(
      sql,
      `SELECT ${ENTRY_COLUMNS}, hold_project_id, hold_budget_id FROM (
         SELECT e.*, h.project_id AS hold_project_id, h.budget_id::text AS hold_budget_id
         FROM report_budget_entry e LEFT JOIN report_budget_hold h ON e.kind = 'hold_settle' AND h.id = e.hold_id
         WHERE e.ref = ANY($1::text[]) AND e.kind IN ${AMIE_KINDS} AND e.source IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM report_budget_entry x WHERE x.reverses = e.id)) q
       ORDER BY q.id`,
      [refs],
    );
  }

  /**
   * The AMIE refs the check looks at for (project, day) pairs: records
   * attributed to them, and refs of live entries of the project dated in
   * them (a record that moved away leaves one).
   */
  async amieInPairs(pairs: [string, string][], sql: Sql): Promise<AmieIdentity[]> {
    if (pairs.length === 0) return [];
    return runRows<AmieIdentity>(
      sql,
      `WITH p AS (SELECT DISTINCT * FROM unnest($1::text[], $2::date[]) AS p(project_id, day)),
       pd AS (SELECT p.project_id, report_day_start(p.day, tz.z) AS s, report_day_start(p.day + 1, tz.z) AS e FROM p CROSS JOIN ${ZONE} tz)
       SELECT r.site, r.usage_type, r.resource, r.local_record_id FROM pd JOIN amie_usage_record r ON r.local_project_id = pd.project_id
         AND coalesce(r.usage_end, r.usage_start) >= pd.s AND coalesce(r.usage_end, r.usage_start) < pd.e
       UNION
       -- An entry's version (source <ref>@<seq>) names its batch and index (src/usage/usage-receipt.ts), so its identity.
       SELECT b.site, b.usage_type, x.e->>'r', x.e->>'i'
       FROM pd JOIN report_budget_entry e ON e.project_id = pd.project_id AND e.at >= pd.s AND e.at < pd.e
         AND e.kind IN ${AMIE_KINDS} AND e.ref LIKE 'amie:%' AND e.source IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM report_budget_entry y WHERE y.reverses = e.id)
       CROSS JOIN LATERAL (SELECT substring(e.source from '@([0-9]+)$')::bigint AS seq) v
       JOIN amie_usage_batch b ON b.id = v.seq / ${RECORDS_PER_RECEIPT}
       CROSS JOIN LATERAL jsonb_array_elements(b.records::jsonb) AS x(e)
       WHERE (x.e->>'n')::bigint = v.seq % ${RECORDS_PER_RECEIPT}`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    );
  }

  /** The booked (project, day) pairs with their live SU cost of instance and volume meters (6.2) and their budget. */
  async accrualDays(pairs: [string, string][], sql: Sql): Promise<AccrualDay[]> {
    if (pairs.length === 0) return [];
    return runRows<AccrualDay>(
      sql,
      `WITH p AS (SELECT DISTINCT * FROM unnest($1::text[], $2::date[]) AS p(project_id, day)),
       -- A project that never had a budget has no accrual, entry or outside row: the usual drain batch stops here.
       x AS (
         SELECT p.project_id, p.day, report_day_start(p.day, tz.z) AS at FROM p CROSS JOIN ${ZONE} tz
         WHERE EXISTS (SELECT 1 FROM report_budget b WHERE b.project_id = p.project_id)),
       c AS (
         SELECT x.project_id, x.day, coalesce(sum(c.cost), 0) AS cost FROM x
         LEFT JOIN report_rated_day_cell c ON c.project_id = x.project_id AND c.day = x.day AND c.superseded_by IS NULL
           AND c.currency = 'SU' AND (c.meter LIKE 'instance.%' OR c.meter LIKE 'volume.%')
         GROUP BY 1, 2)
       SELECT x.project_id, to_char(x.day, 'YYYY-MM-DD') AS day, 'day:' || to_char(x.day, 'YYYY-MM-DD') AS ref, ${ISO('x.at')} AS at,
              c.cost::numeric(30,6)::text AS cost, b.id::text AS budget_id, ob.id::text AS outside_budget_id
       FROM x JOIN c USING (project_id, day)
       ${BUDGET_OF('x.project_id', 'x.at')}
       ORDER BY x.project_id COLLATE "C", x.day`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    );
  }

  /** Σ of the accrual entries per (project, day ref, budget). */
  async accrualsPosted(days: { project_id: string; ref: string }[], sql: Sql): Promise<AccrualPosted[]> {
    if (days.length === 0) return [];
    return runRows<AccrualPosted>(
      sql,
      `SELECT e.project_id, e.ref, e.budget_id::text AS budget_id, sum(e.amount)::numeric(30,6)::text AS amount, count(*)::int AS entries
       FROM unnest($1::text[], $2::text[]) AS d(project_id, ref)
       JOIN report_budget_entry e ON e.ref = d.ref AND e.project_id = d.project_id AND e.kind IN ${ACCRUAL_KINDS}
       GROUP BY 1, 2, 3`,
      [days.map((d) => d.project_id), days.map((d) => d.ref)],
    );
  }

  /** The outside-period rows of `refs` (AMIE refs: whatever their project). */
  async outsideOf(refs: string[], sql: Sql): Promise<OutsideRow[]> {
    if (refs.length === 0) return [];
    return runRows<OutsideRow>(
      sql,
      `SELECT project_id, ref, budget_id::text AS budget_id, amount::text AS amount FROM report_budget_outside WHERE ref = ANY($1::text[])`,
      [refs],
    );
  }

  async putOutside(row: OutsideRow, sql: Sql): Promise<void> {
    await runRows(
      sql,
      `INSERT INTO report_budget_outside (project_id, ref, budget_id, amount) VALUES ($1, $2, $3, $4)
       ON CONFLICT (project_id, ref) DO UPDATE SET budget_id = EXCLUDED.budget_id, amount = EXCLUDED.amount, updated_at = now()`,
      [row.project_id, row.ref, row.budget_id, row.amount],
    );
  }

  /**
   * For each instant of `ats`, the project's latest budget that ended at or
   * before it (its `outside_period` takes usage there when no period holds
   * it), or null; in the order of `ats`.
   */
  async budgetsEndedBy(projectId: string, ats: string[], sql: Sql): Promise<(string | null)[]> {
    if (ats.length === 0) return [];
    const rows = await runRows<{ budget_id: string | null }>(
      sql,
      `SELECT ob.id::text AS budget_id FROM unnest($2::timestamptz[]) WITH ORDINALITY AS a(at, n)
       LEFT JOIN LATERAL (
         SELECT o.id FROM report_budget o WHERE o.project_id = $1 AND o.period_end <= a.at ORDER BY o.period_end DESC LIMIT 1
       ) ob ON TRUE
       ORDER BY a.n`,
      [projectId, ats],
    );
    return rows.map((r) => r.budget_id);
  }

  async deleteOutside(row: { project_id: string; ref: string }, sql: Sql): Promise<void> {
    await runRows(sql, `DELETE FROM report_budget_outside WHERE project_id = $1 AND ref = $2`, [row.project_id, row.ref]);
  }

  /**
   * The budgets a hold naming one of the compute records of `ids` may be
   * in (6.4 AMIE link): per project of those records, its budget whose
   * period contains now, the one before it and the one after it (a hold
   * whose create read its clock just before a period boundary locks the
   * budget that just ended). Ascending ids, the order every writer locks
   * budgets in.
   */
  async holdBudgetsOf(ids: AmieIdentity[], sql: Sql): Promise<string[]> {
    const compute = ids.filter((i) => i.usage_type === 'Compute');
    if (compute.length === 0) return [];
    const rows = await runRows<{ id: string }>(
      sql,
      `WITH p AS (
         SELECT DISTINCT r.local_project_id AS project_id
         FROM unnest($1::text[], $2::text[], $3::text[]) AS i(site, resource, local_record_id)
         JOIN amie_usage_record r ON r.site = i.site AND r.usage_type = 'Compute' AND r.resource = i.resource AND r.local_record_id = i.local_record_id)
       SELECT DISTINCT b.id::text AS id, b.id AS n FROM p CROSS JOIN LATERAL (
         (SELECT x.id FROM report_budget x WHERE x.project_id = p.project_id AND x.period_start <= clock_timestamp() ORDER BY x.period_start DESC LIMIT 2)
         UNION ALL
         (SELECT x.id FROM report_budget x WHERE x.project_id = p.project_id AND x.period_start > clock_timestamp() ORDER BY x.period_start LIMIT 1)) b
       ORDER BY b.id`,
      [compute.map((i) => i.site), compute.map((i) => i.resource), compute.map((i) => i.local_record_id)],
    );
    return rows.map((r) => r.id);
  }

  /**
   * A resubmission of the record that settled a hold (6.4 AMIE link): the
   * settled hold's amount follows the new version's SU amount (its new
   * `hold_settle` is posted beside this), its refunded amount capped at it.
   * Settling a held hold is HoldTransitions.settleLocked's.
   */
  async resettleHold(holdId: string, amount: string, refunded: string, sql: Sql): Promise<void> {
    await runRows(sql, `UPDATE report_budget_hold SET settled_amount = $2, refunded_amount = $3 WHERE id = $1 AND state = 'settled'`, [holdId, amount, refunded]);
  }

  /**
   * I6's first half (reports.md 7.4) for the budgets of `projects` (null:
   * all) whose period meets [start, end): granted, consumed and held against
   * the sums of their entries, outside_period against its rows.
   */
  async balanceDifferences(start: string, end: string, projects: string[] | null, sql: Sql): Promise<BalanceDifference[]> {
    return runRows<BalanceDifference>(
      sql,
      `WITH b AS (
         SELECT * FROM report_budget WHERE period_start < $2::timestamptz AND period_end > $1::timestamptz
           AND ($3::text[] IS NULL OR project_id = ANY($3::text[]))),
       s AS (
         SELECT b.id,
           (SELECT coalesce(sum(e.amount) FILTER (WHERE e.kind = ANY($4::text[])), 0)
              FROM report_budget_entry e WHERE e.budget_id = b.id) AS g,
           (SELECT -coalesce(sum(e.amount) FILTER (WHERE e.kind = ANY($5::text[])), 0)
              FROM report_budget_entry e WHERE e.budget_id = b.id) AS c,
           (SELECT -coalesce(sum(e.amount) FILTER (WHERE e.kind = ANY($6::text[])), 0)
              FROM report_budget_entry e WHERE e.budget_id = b.id) AS h,
           (SELECT coalesce(sum(o.amount), 0) FROM report_budget_outside o WHERE o.budget_id = b.id) AS o
         FROM b)
       SELECT b.id::text AS budget_id, b.project_id, ${ISO('b.period_start')} AS period_start, f.figure, f.stored::numeric(30,6)::text AS stored, f.summed::numeric(30,6)::text AS summed
       FROM b JOIN s USING (id)
       CROSS JOIN LATERAL (VALUES ('granted', b.granted, s.g), ('consumed', b.consumed, s.c), ('held', b.held, s.h), ('outside_period', b.outside_period, s.o)) AS f(figure, stored, summed)
       WHERE f.stored <> f.summed
       ORDER BY b.project_id COLLATE "C", b.period_start, f.figure`,
      [start, end, projects, kindsMoving('granted'), kindsMoving('consumed'), kindsMoving('held')],
    );
  }

  /** Sets outside_period to the Σ of its rows (the check's repair; the caller holds the row lock). */
  async restoreOutside(budgetId: string, sql: Sql): Promise<void> {
    await runRows(
      sql,
      `UPDATE report_budget SET outside_period = (SELECT coalesce(sum(amount), 0) FROM report_budget_outside WHERE budget_id = $1), updated_at = now() WHERE id = $1`,
      [budgetId],
    );
  }
}
