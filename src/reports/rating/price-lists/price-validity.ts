import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../../config/app-config';
import { Sql } from '../../../database/query-result';
import { invalid } from '../../window/reports-input';
import { PriceListsRepository, ResolvedBound } from './price-lists.repository';

/** A validity `[from, to)` as exact UTC instants (`to` null: open-ended) and local days. */
export interface Validity {
  from: string;
  to: string | null;
  fromDay: string;
  toDay: string | null;
}

/** One validity as written, and the field names its errors carry (`valid_from`, `items[2].valid_to`). */
export interface WrittenValidity {
  from: string;
  to: string | null;
  fromField: string;
  toField: string;
}

/** A day-aligned window `[start, end)` of exact instants. */
export interface Window {
  start: string;
  end: string;
}

/**
 * Validity bounds (reports.md 4.1): each must be the start of a day of
 * REPORT_TIME_ZONE (a bare date means that start), resolved and checked by
 * the database's `report_day_start` (the one definition of a local day,
 * 1.5); the Node side compares the resulting UTC instants as text only.
 */
@Injectable()
export class PriceValidity {
  constructor(
    private readonly repository: PriceListsRepository,
    private readonly config: AppConfig,
  ) {}

  get zone(): string {
    return this.config.reportTimeZone;
  }

  /**
   * Every validity resolved; a 400 naming the first bound at fault. Call it
   * outside a transaction while the values are unchecked: a value
   * PostgreSQL refuses fails its statement, which would abort the
   * transaction around it.
   */
  async resolve(written: WrittenValidity[], sql?: Sql): Promise<Validity[]> {
    const bounds: { value: string; field: string }[] = [];
    for (const w of written) {
      bounds.push({ value: w.from, field: w.fromField });
      if (w.to !== null) bounds.push({ value: w.to, field: w.toField });
    }
    const resolved = await this.bounds(bounds, sql);
    let next = 0;
    return written.map((w) => {
      const from: ResolvedBound = resolved[next++];
      const to: ResolvedBound | null = w.to === null ? null : resolved[next++];
      if (to !== null && to.at <= from.at) throw invalid(w.toField, 'must be later than valid_from');
      return { from: from.at, to: to?.at ?? null, fromDay: from.day, toDay: to?.day ?? null };
    });
  }

  /** Bounds resolved and checked to be local midnights; a 400 naming the first at fault. */
  async bounds(bounds: { value: string; field: string }[], sql?: Sql): Promise<ResolvedBound[]> {
    const values = bounds.map((b) => b.value);
    let resolved = await this.repository.resolveBounds(values, this.zone, sql);
    if (resolved === undefined) {
      // One value PostgreSQL refuses (2025-02-30, hour 25): find it, to name it.
      resolved = [];
      for (let i = 0; i < values.length; i++) {
        const one = await this.repository.resolveBounds([values[i]], this.zone, sql);
        if (one === undefined) throw invalid(bounds[i].field, 'not a valid date or instant');
        resolved.push(one[0]);
      }
    }
    resolved.forEach((b, i) => {
      if (!b.aligned) throw invalid(bounds[i].field, `must be the start of a day of ${this.zone} (a local midnight; YYYY-MM-DD means that start)`);
    });
    return resolved;
  }

  async today(sql?: Sql): Promise<{ today: string; tomorrow: string }> {
    return this.repository.today(this.zone, sql);
  }
}

/**
 * The days before `today` that a set of validities covers, as one window:
 * from the earliest start to the latest end, cut at `today`; null when
 * none begins before today. Instants are UTC text of one form, so text
 * order is time order.
 */
export function pastWindow(ranges: { from: string; to: string | null }[], today: string): Window | null {
  const past = ranges.filter((r) => r.from < today);
  if (past.length === 0) return null;
  const start = past.map((r) => r.from).reduce((a, b) => (b < a ? b : a));
  const end = past.map((r) => (r.to === null || r.to > today ? today : r.to)).reduce((a, b) => (b > a ? b : a));
  return start < end ? { start, end } : null;
}
