import { StatusRange } from './usage.commands';
import { microsToIso } from './usage-dates';

/**
 * The status window `[from, to)` (amie-usage.md 5.4) as SQL, shared by the
 * three repositories that count in it. Parameters: $1 the site, $2 and $3
 * the bounds (NULL is open).
 */
export function windowParams(site: string, range: StatusRange): [string, string | null, string | null] {
  return [site, range.from === null ? null : microsToIso(range.from), range.to === null ? null : microsToIso(range.to)];
}

export function inWindow(column: string): string {
  return `($2::timestamptz IS NULL OR ${column} >= $2::timestamptz) AND ($3::timestamptz IS NULL OR ${column} < $3::timestamptz)`;
}
