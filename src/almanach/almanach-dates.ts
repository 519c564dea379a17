/**
 * Almanach dates as whole microseconds since the epoch (bigint): the contract
 * keeps microseconds (almanach-v1.md 2.2), which JavaScript's Date cannot.
 */
export type Micros = bigint;

export const SECOND: Micros = 1_000_000n;

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses the forms of almanach-v1.md 2.2: ISO 8601 / RFC 3339 with `T` or a
 * space, any fraction, `Z`, `±HH:MM`, `±HHMM` or no offset (= UTC), and a bare
 * date (midnight UTC). Returns null for anything else.
 */
export function parseAlmanachDate(value: unknown): Micros | null {
  if (typeof value !== 'string') return null;
  const match = DATE_TIME.exec(value.trim());
  if (!match) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', offset] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (offset && offset.toUpperCase() !== 'Z') {
    const digits = offset.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (offset[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  const micros = BigInt(date.getTime()) * 1000n + BigInt((fraction + '000000').slice(0, 6));
  return micros - BigInt(offsetMinutes) * 60n * SECOND;
}

function daysInMonth(year: number, month: number): number {
  return [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function parts(micros: Micros): { date: Date; fraction: bigint } {
  let ms = micros / 1000n;
  let fraction = micros % SECOND;
  if (fraction < 0n) {
    fraction += SECOND;
    ms -= 1n;
  }
  return { date: new Date(Number(ms)), fraction };
}

function pad(value: number | bigint, width: number): string {
  return String(value).padStart(width, '0');
}

function dateTimeText(micros: Micros, separator: string): { text: string; fraction: bigint } {
  const { date, fraction } = parts(micros);
  const text =
    `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}` +
    `${separator}${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}`;
  return { text, fraction };
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00`, Python's str() of a UTC datetime (almanach-v1.md 2.3). */
export function formatAlmanachDate(micros: Micros): string {
  const { text, fraction } = dateTimeText(micros, ' ');
  return fraction === 0n ? `${text}+00:00` : `${text}.${pad(fraction, 6)}+00:00`;
}

/** An exact PostgreSQL timestamptz literal. */
export function toSqlTimestamp(micros: Micros): string {
  const { text, fraction } = dateTimeText(micros, 'T');
  return `${text}.${pad(fraction, 6)}Z`;
}

export function nowMicros(): Micros {
  return BigInt(Date.now()) * 1000n;
}
