/**
 * The window of an exported report, as the file name needs it (reports.md
 * 1.7): the `period` label when the request gave one, else its instants.
 */
export interface CsvFileWindow {
  /** `2025-03`, `2025`, `2025-03-14`: the `period` parameter as given; null or absent when start/end were given. */
  period?: string | null;
  start: Date;
  end: Date;
}

const UNSAFE = /[^A-Za-z0-9._-]/g;

/**
 * `<route>-<window>.csv` (reports.md 1.7, "decision (file name)"): `<route>`
 * is the path after `/reports/` with `/` written `-`; `<window>` is the
 * period label, else `<start>--<end>` as UTC `YYYYMMDDTHHMMSSZ`; a route
 * without a window has no `-<window>`. Characters outside `[A-Za-z0-9._-]`
 * become `_`.
 *
 * `route` is either the path (`/reports/usage/entities`, `usage/entities`)
 * or its segments (`['budgets', projectId, 'ledger']`); give segments when
 * one of them is a value that may itself contain `/` (a project id), so that
 * such a `/` becomes `_`, not `-`. Segments are taken as decoded values.
 */
export function csvFileName(route: string | readonly string[], window?: CsvFileWindow | null): string {
  const segments = typeof route === 'string' ? route.split('?', 1)[0].replace(/^\/+/, '').replace(/^reports(\/|$)/, '').split('/').filter(Boolean) : route;
  if (segments.length === 0) throw new Error('csvFileName: the route has no segment after /reports/');
  const name = segments.map((segment) => segment.replace(UNSAFE, '_')).join('-');
  if (!window) return `${name}.csv`;
  const label = window.period ? window.period : `${utcStamp(window.start)}--${utcStamp(window.end)}`;
  return `${name}-${label.replace(UNSAFE, '_')}.csv`;
}

/** `2025-02-28T23:00:00.000Z` → `20250228T230000Z` (fractions of a second are dropped). */
export function utcStamp(instant: Date): string {
  if (Number.isNaN(instant.getTime())) throw new Error('csvFileName: invalid date');
  return instant.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

/** The Content-Disposition of an export: the name is `[A-Za-z0-9._-]` only, so it needs no escaping. */
export function csvContentDisposition(fileName: string): string {
  return `attachment; filename="${fileName}"`;
}
