/*
 * Calendar arithmetic on local days `YYYY-MM-DD` of the accounting zone
 * (reports.md 1.5). Days are labels here: their start instants are
 * PostgreSQL's to compute (the single authority on zones); this only counts
 * and steps them, which needs no zone.
 */

const DAY_MS = 86_400_000;

function toMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

function fromMs(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Whether a string is a real calendar day `YYYY-MM-DD` (years 0001 to 9998, so that the day after a window is one too). */
export function isDay(text: string): boolean {
  if (!/^\d{4}-\d\d-\d\d$/.test(text) || text.startsWith('0000') || text.startsWith('9999')) return false;
  const ms = toMs(text);
  return !Number.isNaN(ms) && fromMs(ms) === text;
}

/** Whether a string is a period `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (reports.md 1.5). */
export function isPeriod(text: string): boolean {
  if (/^\d{4}$/.test(text)) return isDay(`${text}-01-01`);
  if (/^\d{4}-\d\d$/.test(text)) return isDay(`${text}-01`);
  return isDay(text);
}

export function addDays(day: string, n: number): string {
  return fromMs(toMs(day) + n * DAY_MS);
}

/** Days from `a` to `b` (b − a). */
export function daysBetween(a: string, b: string): number {
  return Math.round((toMs(b) - toMs(a)) / DAY_MS);
}

export function minDay(a: string, b: string): string {
  return a < b ? a : b;
}

/** The local days `[first, end)` of a period. */
export function periodDays(period: string): { first: string; end: string } {
  if (/^\d{4}$/.test(period)) return { first: `${period}-01-01`, end: `${String(Number(period) + 1).padStart(4, '0')}-01-01` };
  if (/^\d{4}-\d\d$/.test(period)) {
    const [y, m] = period.split('-').map(Number);
    const next = m === 12 ? `${String(y + 1).padStart(4, '0')}-01` : `${String(y).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}`;
    return { first: `${period}-01`, end: `${next}-01` };
  }
  return { first: period, end: addDays(period, 1) };
}

/** The first days of the months that local days [first, end) meet. */
export function monthsOf(first: string, end: string): string[] {
  const months: string[] = [];
  let month = `${first.slice(0, 7)}-01`;
  while (month < end) {
    months.push(month);
    month = periodDays(month.slice(0, 7)).end;
  }
  return months;
}
