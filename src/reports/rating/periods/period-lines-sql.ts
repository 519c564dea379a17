/*
 * The SQL pieces of closed periods that /reports/usage reads (reports.md
 * 3.1 `view` and `lines`, 5.3): frozen usage cells for the days of closed
 * periods, and adjustment lines, posted or applied. The usage report's
 * statement (src/reports/usage/usage-report.repository.ts) splices them in;
 * they name its CTEs (`classified`, `buckets`, `w`, `clock`) and give rows
 * of its `src` shape.
 */

/** What a report's `view` and `lines` select (5.3). */
export interface LineSelection {
  /** Whole booked days of closed periods read their frozen cells (view=closed); else live cells. */
  frozen: boolean;
  /** Usage lines at all (not for lines=adjustments). */
  usage: boolean;
  /** Adjustment lines: none (view=live), those posted in the window (lines=usage), those applied to its days (adjustments, all). */
  adjustments: 'none' | 'posted' | 'applied';
}

/** `view` and `lines` (validated: view=live only with lines=usage) as a selection. */
export function lineSelection(view: 'closed' | 'live' | undefined, lines: 'usage' | 'adjustments' | 'all' | undefined): LineSelection {
  if (view === 'live') return { frozen: false, usage: true, adjustments: 'none' };
  const chosen = lines ?? 'usage';
  return { frozen: true, usage: chosen !== 'adjustments', adjustments: chosen === 'usage' ? 'posted' : 'applied' };
}

/** Whether local day `day` (a date expression) lies in a closed period. */
export function inClosedPeriod(day: string): string {
  return `EXISTS (SELECT 1 FROM report_period rp WHERE rp.month = date_trunc('month', ${day})::date AND rp.state = 'closed')`;
}

/**
 * The frozen usage cells (price list '') of the pieces classified `closed`
 * (whole booked days of closed periods), as `src` rows (level `frozen`:
 * their cost is the frozen rated cell of the same key, read by the report's
 * `costed`).
 */
export function frozenCellsSql(projectOk: (col: string) => string, siteOk: (col: string) => string): string {
  return `SELECT x.bucket, f.project_id, f.site, f.meter, f.key, f.subkey, f.quantity, 'frozen', x.day, NULL::date, 1
        FROM classified x JOIN report_closed_cell f ON f.month = date_trunc('month', x.day)::date AND f.day = x.day AND f.price_list_id = ''
        WHERE x.kind = 'closed' AND ${projectOk('f.project_id')} AND ${siteOk('f.site')}`;
}

/**
 * Adjustment lines as rows of the report's `lines` (the `src` shape, level
 * `adj`, then `line_type` 'adjustment', `applies` the period they correct
 * (`YYYY-MM`) and `acost`): posted ones by the bucket holding `posted_at`,
 * applied ones by the bucket holding the start of their day; none for
 * `none`. A row sums the quantity lines (price list '') and, with a
 * currency, the cost lines of that currency for the same cell, so a price
 * correction that changes no quantity still shows its cost. Its last two
 * columns bound the items its cost lines name (`item_id`, `prior_item_id`;
 * null, no rated cell on that side, names none; '' is an unknown item of a
 * line posted before migration 1763801860000), for 3.1 `unit_price`: equal
 * when one item rated every side that had a rated cell; null when none did
 * or without a currency.
 */
export function adjustmentLinesSql(mode: LineSelection['adjustments'], projectOk: (col: string) => string, siteOk: (col: string) => string, currency: string | null): string {
  const lists = currency === null ? `a.price_list_id = ''` : `(a.price_list_id = '' OR a.currency = ${currency})`;
  const scope = `${lists} AND ${projectOk('a.project_id')} AND ${siteOk('a.site')}`;
  const costLine = `FILTER (WHERE a.price_list_id <> '')`;
  const columns = `b.bucket, a.project_id, a.site, a.meter, a.key, a.subkey,
        coalesce(sum(a.quantity_delta) FILTER (WHERE a.price_list_id = ''), 0), 'adj'::text, NULL::date, NULL::date, 1,
        'adjustment'::text, to_char(a.applies_to_period, 'YYYY-MM'),
        ${currency === null ? 'NULL::numeric' : `coalesce(sum(a.cost_delta) ${costLine}, 0)`},
        ${
          currency === null
            ? 'NULL::text, NULL::text'
            : `min(least(a.item_id, a.prior_item_id)) ${costLine}, max(greatest(a.item_id, a.prior_item_id)) ${costLine}`
        }`;
  const group = `GROUP BY b.bucket, a.project_id, a.site, a.meter, a.key, a.subkey, a.applies_to_period`;
  if (mode === 'posted') {
    return `SELECT ${columns}
        FROM buckets b CROSS JOIN w
        JOIN report_adjustment_line a ON a.posted_at >= b.bs AND a.posted_at < least(b.be, w.we_cut)
        WHERE ${scope}
        ${group}`;
  }
  if (mode === 'applied') {
    return `SELECT ${columns}
        FROM buckets b CROSS JOIN w CROSS JOIN clock c
        JOIN report_adjustment_line a
          ON a.day >= report_local_day(b.bs, c.atz) AND a.day <= report_local_day(least(b.be, w.we_cut) - interval '1 microsecond', c.atz)
         AND report_day_start(a.day, c.atz) >= b.bs AND report_day_start(a.day, c.atz) < least(b.be, w.we_cut)
        WHERE ${scope} AND least(b.be, w.we_cut) > b.bs
        ${group}`;
  }
  return `SELECT NULL::int, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::numeric, NULL::text, NULL::date, NULL::date, NULL::int, NULL::text, NULL::text, NULL::numeric, NULL::text, NULL::text WHERE FALSE`;
}
