import { DomainError } from '../http/domain-error';
import { Micros, parseAlmanachDate } from './almanach-dates';
import { AlmanachError, INVALID_DATE, INVALID_PAYLOAD, missingParam } from './almanach.errors';

/**
 * Reads an Almanach request body key by key, in the order each route lists
 * its keys, so the first missing or malformed key is the one reported
 * (almanach-v1.md 4).
 */
export class AlmanachBody {
  private readonly body: Record<string, unknown>;

  constructor(body: unknown) {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new DomainError(AlmanachError.InvalidPayload, INVALID_PAYLOAD);
    }
    this.body = body as Record<string, unknown>;
  }

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.body, key);
  }

  private required(key: string): unknown {
    if (!this.has(key)) throw new DomainError(AlmanachError.MissingParam, missingParam(key));
    return this.body[key];
  }

  date(key: string): Micros {
    const micros = parseAlmanachDate(this.required(key));
    if (micros === null) throw new DomainError(AlmanachError.InvalidDate, INVALID_DATE);
    return micros;
  }

  string(key: string): string {
    const value = this.required(key);
    if (typeof value !== 'string') throw invalid();
    return value;
  }

  nullableString(key: string): string | null {
    const value = this.required(key);
    if (value !== null && typeof value !== 'string') throw invalid();
    return value;
  }

  /** A size in GB: a whole number or a string of digits (the CLI sends strings). */
  size(key: string): number {
    const value = this.required(key);
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
    if (typeof value === 'string' && /^\s*\d{1,15}\s*$/.test(value)) return Number(value);
    throw invalid();
  }

  /**
   * A list of instance ids: `null` means none (the CLI sends null without
   * --attachment); with `optional`, absent and `""` mean none and a single
   * string is a one-element list (almanach-v1.md 5.7).
   */
  idList(key: string, optional = false): string[] {
    if (optional && !this.has(key)) return [];
    const value = this.required(key);
    if (value === null) return [];
    if (optional && typeof value === 'string') return value === '' ? [] : [value];
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw invalid();
    return [...new Set(value as string[])];
  }
}

export function invalid(): DomainError {
  return new DomainError(AlmanachError.InvalidPayload, INVALID_PAYLOAD);
}

/** A query-string date (almanach-v1.md 2.2); absent → 400 naming it, unparseable → 400. */
export function queryDate(query: Record<string, unknown>, key: string): Micros {
  const raw = query[key];
  if (raw === undefined) throw new DomainError(AlmanachError.MissingParam, missingParam(key));
  const micros = parseAlmanachDate(Array.isArray(raw) ? undefined : raw);
  if (micros === null) throw new DomainError(AlmanachError.InvalidPayload, INVALID_PAYLOAD);
  return micros;
}
