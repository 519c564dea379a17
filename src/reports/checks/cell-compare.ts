import { Exact } from '../decimal';
import { DayCell } from '../rollups/rollup.repository';

/** One I1 difference (reports.md 7.5), with the cells' item counts beside the quantities. */
export interface CellMismatch {
  invariant: 'I1' | 'I3' | 'I4' | 'I6' | 'I7';
  project_id: string | null;
  site: string;
  day: string;
  meter: string;
  key: string;
  subkey: string;
  stored: string;
  recomputed: string;
  stored_items: number | null;
  recomputed_items: number | null;
  /** For I3: which sum differs from its day cells (`day` is then the month's first day, or the site's day). */
  cell?: 'month' | 'site_day';
  /** For I4: the price list of the rated cell; `stored`/`recomputed` are then its costs ('none': no cell). */
  price_list_id?: string;
  /**
   * For I6 (budgets, src/reports/budgets/debits/): what differs — a balance row's figure, an AMIE record's entries, a day's accrual;
   * for I7 (src/reports/budgets/events/threshold-check.service.ts): a `duplicate` event or a `missing` one.
   */
  entry?: 'balance' | 'amie' | 'accrual' | 'duplicate' | 'missing';
  /** For I6 and I7: the budget, and the figure or entry ref (`amie:…`, `day:…`, `threshold:<t>[/arming:<n>]`). */
  budget_id?: string | null;
  ref?: string;
}

const cellKey = (c: DayCell) => JSON.stringify([c.project_id, c.site, c.day, c.meter, c.key, c.subkey]);

/**
 * Compares stored day cells with cells recomputed from raw history for the
 * same keys: an absent cell counts as zero (reports.md 7.4), quantities are
 * compared as exact decimals (`1.5` equals `1.500000`), items as counts.
 * Returns the number of cells compared (the union of both sides) and the
 * differences, in key order.
 */
export function compareDayCells(stored: DayCell[], recomputed: DayCell[]): { checked: number; mismatches: CellMismatch[] } {
  const byKey = new Map<string, { cell: DayCell; stored?: DayCell; recomputed?: DayCell }>();
  for (const cell of stored) byKey.set(cellKey(cell), { cell, stored: cell });
  for (const cell of recomputed) {
    const entry = byKey.get(cellKey(cell));
    if (entry) entry.recomputed = cell;
    else byKey.set(cellKey(cell), { cell, recomputed: cell });
  }
  const mismatches: CellMismatch[] = [];
  for (const { cell, stored: s, recomputed: r } of byKey.values()) {
    const storedQ = new Exact(s?.quantity ?? 0);
    const recomputedQ = new Exact(r?.quantity ?? 0);
    const storedItems = Number(s?.items ?? 0);
    const recomputedItems = Number(r?.items ?? 0);
    if (storedQ.eq(recomputedQ) && storedItems === recomputedItems) continue;
    mismatches.push({
      invariant: 'I1',
      project_id: cell.project_id,
      site: cell.site,
      day: cell.day,
      meter: cell.meter,
      key: cell.key,
      subkey: cell.subkey,
      stored: s?.quantity ?? '0',
      recomputed: r?.quantity ?? '0',
      stored_items: storedItems,
      recomputed_items: recomputedItems,
    });
  }
  const order = (m: CellMismatch) => [m.project_id ?? '', m.site, m.day, m.meter, m.key, m.subkey];
  mismatches.sort((a, b) => {
    const x = order(a);
    const y = order(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return Buffer.compare(Buffer.from(x[i]), Buffer.from(y[i]));
    return 0;
  });
  return { checked: byKey.size, mismatches };
}
