/**
 * Date-times of amie-usage.md 4.7: ISO 8601 / RFC 3339, `T` or one space
 * between date and time, seconds and a fraction of any length optional, `Z`
 * or `±HH:MM` / `±HHMM` optional (no offset = UTC), a bare date = midnight.
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

/** Also the pattern of the compiled record schemas (usage-validation.ts). */
export const DATE_TIME_PATTERN = DATE_TIME.source;

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Milliseconds since the epoch, or null when the text is not such a date-time. */
export function parseAmieDateTime(text: string): number | null {
  const micros = parseAmieDateTimeMicros(text);
  return micros === null ? null : Number(micros / 1000n);
}

/** Microseconds since the epoch (PostgreSQL's precision; further digits are cut). */
export function parseAmieDateTimeMicros(text: string): bigint | null {
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : DAYS[month - 1])) return null;
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (hour > 23 || minute > 59 || second > 59) return null;
  const micros = m[7] === undefined ? 0 : Number(m[7].slice(0, 6).padEnd(6, '0'));
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2, 4));
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return BigInt(Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000) * 1000n + BigInt(micros);
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
