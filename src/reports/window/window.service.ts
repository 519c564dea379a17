import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Sql } from '../../database/query-result';
import { invalid } from './reports-input';
import { WindowQueryDto } from './window.dto';
import { Bound, WindowRepository } from './window.repository';

/** A report's window, resolved (§1.5). Instants are UTC with six fractional digits and `Z`. */
export interface ResolvedWindow {
  start: string;
  end: string;
  /** The zone of `period`, bare dates and buckets. */
  tz: string;
  /** The `period` asked for, or null. */
  period: string | null;
  /** The answer's evaluation instant; figures cover [start, min(end, as_of)). */
  as_of: string;
}

/** An instant in the answers' form: milliseconds and `Z` (README "Dates"). */
export function isoMillis(instant: string): string {
  return `${instant.slice(0, 23)}Z`;
}

/**
 * Reads a window from `start`/`end` or `period` and `tz` (reports.md §1.5):
 * exactly one of the two ways, a zone PostgreSQL knows, `end` later than
 * `start`; each failure a 400 naming the field.
 */
@Injectable()
export class WindowService {
  constructor(
    private readonly windows: WindowRepository,
    private readonly config: AppConfig,
  ) {}

  async resolve(query: WindowQueryDto, sql?: Sql): Promise<ResolvedWindow> {
    const tz = query.tz ?? this.config.reportTimeZone;
    if (query.tz !== undefined && !(await this.windows.knownZone(tz, sql))) throw invalid('tz', 'not a time zone PostgreSQL knows');
    let start: Bound;
    let end: Bound;
    if (query.period !== undefined) {
      if (query.start !== undefined || query.end !== undefined) throw invalid('period', 'give either period or start and end, not both');
      [start, end] = periodBounds(query.period);
    } else {
      if (query.start === undefined) throw invalid('start', 'required (or give period)');
      if (query.end === undefined) throw invalid('end', 'required (or give period)');
      start = bound(query.start, 'start');
      end = bound(query.end, 'end');
    }
    let resolved: { start: string; end: string; as_of: string };
    try {
      resolved = await this.windows.resolve(start, end, tz, sql);
    } catch (error) {
      // A value the patterns let through but PostgreSQL refuses (hour 25, offset +99:00).
      if ((error as { code?: string }).code?.startsWith('22')) throw invalid(query.period !== undefined ? 'period' : 'start', 'not a valid date or instant');
      throw error;
    }
    if (resolved.end <= resolved.start) throw invalid('end', 'must be later than start');
    return { ...resolved, tz, period: query.period ?? null };
  }
}

function bound(value: string, field: string): Bound {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    if (!validDate(value)) throw invalid(field, 'not a valid date');
    return { date: value };
  }
  return { instant: value };
}

/** The local dates that start `period` and the period after it. */
export function periodBounds(period: string): [Bound, Bound] {
  const [y, m, d] = period.split('-').map(Number);
  if (m !== undefined && (m < 1 || m > 12)) throw invalid('period', 'not a valid month');
  if (d !== undefined && !validDate(period)) throw invalid('period', 'not a valid date');
  const date = (year: number, month: number, day: number) => {
    const t = new Date(Date.UTC(year, month - 1, day));
    return `${String(t.getUTCFullYear()).padStart(4, '0')}-${String(t.getUTCMonth() + 1).padStart(2, '0')}-${String(t.getUTCDate()).padStart(2, '0')}`;
  };
  if (m === undefined) return [{ date: date(y, 1, 1) }, { date: date(y + 1, 1, 1) }];
  if (d === undefined) return [{ date: date(y, m, 1) }, { date: date(y, m + 1, 1) }];
  return [{ date: date(y, m, d) }, { date: date(y, m, d + 1) }];
}

function validDate(text: string): boolean {
  const [y, m, d] = text.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d));
  return y >= 1 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}
