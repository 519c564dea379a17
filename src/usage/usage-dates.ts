/**
 * Date-times of amie-usage.md 4.7: ISO 8601 / RFC 3339, `T` or one space
 * between date and time, seconds and a fraction of any length optional, `Z`
 * or `±HH:MM` / `±HHMM` optional (no offset = UTC), a bare date = midnight.
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

/** Also the pattern of the compiled record schemas (usage-validation.ts). */
export const DATE_TIME_PATTERN = DATE_TIME.source;

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The digit at `i`, or -1. */
function digitAt(text: string, i: number): number {
  const d = text.charCodeAt(i) - 0x30;
  return d >= 0 && d <= 9 ? d : -1;
}

/** The two digits at `i` as a number, or -1. */
function twoAt(text: string, i: number): number {
  const a = digitAt(text, i);
  const b = digitAt(text, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

/**
 * The parts of such a date-time: `base`, whole seconds as milliseconds since
 * the epoch (offset applied), and `fraction`, the microseconds (further
 * digits are cut); null when the text is not such a date-time. Reads the
 * grammar of DATE_TIME character by character (it runs three times for
 * every compute record; a test holds it to the regular expression).
 */
function parseParts(text: string): { base: number; fraction: number } | null {
  const n = text.length;
  if (n < 10 || text.charCodeAt(4) !== 0x2d || text.charCodeAt(7) !== 0x2d) return null;
  const hi = twoAt(text, 0);
  const lo = twoAt(text, 2);
  const month = twoAt(text, 5);
  const day = twoAt(text, 8);
  if (hi < 0 || lo < 0 || month < 0 || day < 0) return null;
  const year = hi * 100 + lo;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let fraction = 0;
  let offsetMinutes = 0;
  if (n > 10) {
    const sep = text.charCodeAt(10);
    if ((sep !== 0x54 && sep !== 0x74 && sep !== 0x20) || text.charCodeAt(13) !== 0x3a) return null;
    hour = twoAt(text, 11);
    minute = twoAt(text, 14);
    if (hour < 0 || minute < 0) return null;
    let i = 16;
    if (text.charCodeAt(i) === 0x3a) {
      second = twoAt(text, i + 1);
      if (second < 0) return null;
      i += 3;
      if (text.charCodeAt(i) === 0x2e) {
        let j = i + 1;
        let kept = 0;
        for (let d = digitAt(text, j); d >= 0; d = digitAt(text, ++j)) {
          if (kept < 6) {
            fraction = fraction * 10 + d;
            kept++;
          }
        }
        if (j === i + 1) return null;
        for (; kept < 6; kept++) fraction *= 10;
        i = j;
      }
    }
    if (i < n) {
      const zone = text.charCodeAt(i);
      if (zone === 0x5a || zone === 0x7a) i++;
      else if (zone === 0x2b || zone === 0x2d) {
        const oh = twoAt(text, i + 1);
        let j = i + 3;
        if (text.charCodeAt(j) === 0x3a) j++;
        const om = twoAt(text, j);
        if (oh < 0 || om < 0 || oh > 23 || om > 59) return null;
        offsetMinutes = (zone === 0x2d ? -1 : 1) * (oh * 60 + om);
        i = j + 2;
      } else return null;
    }
    if (i !== n) return null;
  }
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : DAYS[month - 1])) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  // Date.UTC reads years 0-99 as 1900-1999: kept for them, so every year reads as before.
  const utc = year < 100 ? Date.UTC(year, month - 1, day, hour, minute, second) : daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000;
  return { base: utc - offsetMinutes * 60_000, fraction };
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil): Date.UTC's day count, without its cost. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const CANONICAL_UTC = /^([1-9]\d{3}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{3})\d*)?[Zz]?$/;

/**
 * `new Date(ms).toISOString()` of a date-time parseAmieDateTime read as `ms`:
 * for the usual UTC text from 1970 on (seconds given, milliseconds or more or
 * none, no offset) it is the text itself rearranged, so no Date is built.
 */
export function isoOfAmieDateTime(text: string, ms: number): string {
  // Already toISOString's form (the usual case): the text itself, nothing built.
  if (ms >= 0 && text.length === 24 && text.charCodeAt(10) === 0x54 && text.charCodeAt(19) === 0x2e && text.charCodeAt(23) === 0x5a && text.charCodeAt(0) !== 0x30) return text;
  const m = ms >= 0 ? CANONICAL_UTC.exec(text) : null;
  return m ? `${m[1]}T${m[2]}.${m[3] ?? '000'}Z` : new Date(ms).toISOString();
}

/**
 * Milliseconds since the epoch, or null when the text is not such a
 * date-time: the microseconds of parseAmieDateTimeMicros divided by 1000,
 * truncated toward zero, computed without BigInt (this runs three times for
 * every compute record).
 */
export function parseAmieDateTime(text: string): number | null {
  const parts = parseParts(text);
  if (parts === null) return null;
  // base is a whole number of seconds, so base * 1000 + fraction has base's sign.
  return parts.base + (parts.base >= 0 ? Math.floor(parts.fraction / 1000) : Math.ceil(parts.fraction / 1000));
}

/** Microseconds since the epoch (PostgreSQL's precision; further digits are cut). */
export function parseAmieDateTimeMicros(text: string): bigint | null {
  const parts = parseParts(text);
  return parts === null ? null : BigInt(parts.base) * 1000n + BigInt(parts.fraction);
}

/**
 * A status bound (amie-usage.md 6): as above, plus a space where the offset's
 * `+` was (an unencoded `+` that the query parser decoded as a space).
 */
export function parseStatusBound(text: string): bigint | null {
  const repaired = text.replace(/^(.+[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$/, '$1+$2');
  return parseAmieDateTimeMicros(repaired);
}

/** ISO 8601 UTC text with microseconds, as PostgreSQL reads it. */
export function microsToIso(micros: bigint): string {
  const ms = micros >= 0n ? micros / 1000n : (micros - 999n) / 1000n;
  const rest = (micros - ms * 1000n).toString().padStart(3, '0');
  return new Date(Number(ms)).toISOString().replace(/Z$/, `${rest}Z`);
}
