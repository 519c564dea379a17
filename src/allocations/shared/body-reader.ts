import { DomainError } from '../../http/domain-error';
import { AllocationsError, invalidFields } from '../allocations.errors';

/**
 * Reads one form-encoded or JSON body field by field (allocations.md 2.1):
 * every value may arrive as a string (form) or a typed JSON value, a list may
 * arrive as one scalar, booleans as True/False/true/false/1/0. Failures are
 * collected per field and thrown together by `done()` as a 400 with `fields`.
 * Each reader returns undefined when the key is absent or its value invalid.
 */
export class BodyReader {
  readonly errors: Record<string, string[]> = {};
  private readonly body: Record<string, unknown>;

  constructor(body: unknown) {
    if (body === undefined || body === null) this.body = {};
    else if (typeof body === 'object' && !Array.isArray(body)) this.body = body as Record<string, unknown>;
    else throw new DomainError(AllocationsError.BadRequest, 'The request body must be an object');
  }

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.body, key);
  }

  raw(key: string): unknown {
    return this.has(key) ? this.body[key] : undefined;
  }

  keys(): string[] {
    return Object.keys(this.body);
  }

  fail(key: string, message: string): undefined {
    (this.errors[key] ??= []).push(message);
    return undefined;
  }

  get failed(): boolean {
    return Object.keys(this.errors).length > 0;
  }

  /** Throws the collected failures as one 400 naming the first field. */
  done(): void {
    if (this.failed) throw invalidFields(this.errors);
  }

  /** A single value; a repeated form key is refused for scalar fields. */
  private scalar(key: string): unknown {
    const value = this.body[key];
    if (Array.isArray(value)) {
      if (value.length === 1) return value[0];
      return this.fail(key, 'expected a single value, got a list');
    }
    return value;
  }

  /** A string; `nullable` maps JSON null (and, with `emptyIsNull`, "") to null. */
  string(
    key: string,
    opts: { required?: boolean; notBlank?: boolean; max?: number; min?: number; pattern?: RegExp; patternMessage?: string; nullable?: boolean; emptyIsNull?: boolean } = {},
  ): string | null | undefined {
    if (!this.has(key)) return opts.required ? this.fail(key, 'This field is required.') : undefined;
    const value = this.scalar(key);
    if (value === undefined) return undefined;
    if (value === null || (opts.emptyIsNull && value === '')) {
      if (opts.nullable) return null;
      return this.fail(key, opts.required ? 'This field is required.' : 'This field may not be null.');
    }
    if (typeof value !== 'string' && typeof value !== 'number') return this.fail(key, 'Expected a string.');
    const text = String(value);
    // PostgreSQL text cannot hold NUL.
    if (text.includes('\u0000')) return this.fail(key, 'Null characters are not allowed.');
    if ((opts.required || opts.notBlank) && text.trim() === '') return this.fail(key, 'This field may not be blank.');
    if (opts.min !== undefined && text.length < opts.min) return this.fail(key, `Ensure this field has at least ${opts.min} characters.`);
    if (opts.max !== undefined && text.length > opts.max) return this.fail(key, `Ensure this field has no more than ${opts.max} characters.`);
    if (opts.pattern && text !== '' && !opts.pattern.test(text)) return this.fail(key, opts.patternMessage ?? 'Invalid value.');
    return text;
  }

  /** A required, non-null string (same options). */
  text(key: string, opts: { required?: boolean; notBlank?: boolean; max?: number; min?: number; pattern?: RegExp; patternMessage?: string } = {}): string | undefined {
    return this.string(key, opts) ?? undefined;
  }

  bool(key: string): boolean | undefined {
    if (!this.has(key)) return undefined;
    const value = this.scalar(key);
    if (value === undefined) return undefined;
    const parsed = parseBool(value);
    return parsed === undefined ? this.fail(key, 'Must be a valid boolean.') : parsed;
  }

  int(key: string, opts: { required?: boolean; nullable?: boolean; min?: number; max?: number } = {}): number | null | undefined {
    if (!this.has(key)) return opts.required ? this.fail(key, 'This field is required.') : undefined;
    const value = this.scalar(key);
    if (value === undefined) return undefined;
    if (value === null || value === '') return opts.nullable ? null : this.fail(key, 'A valid integer is required.');
    const n = parseInteger(value);
    if (n === undefined) return this.fail(key, 'A valid integer is required.');
    if (opts.min !== undefined && n < opts.min) return this.fail(key, `Ensure this value is greater than or equal to ${opts.min}.`);
    if (opts.max !== undefined && n > opts.max) return this.fail(key, `Ensure this value is less than or equal to ${opts.max}.`);
    return n;
  }

  number(key: string, opts: { required?: boolean; min?: number } = {}): number | undefined {
    if (!this.has(key)) return opts.required ? this.fail(key, 'This field is required.') : undefined;
    const value = this.scalar(key);
    if (value === undefined) return undefined;
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    if (!Number.isFinite(n)) return this.fail(key, 'A valid number is required.');
    if (opts.min !== undefined && n < opts.min) return this.fail(key, `Ensure this value is greater than or equal to ${opts.min}.`);
    return n;
  }

  /** A list; a scalar is a one-element list, JSON null an empty one. */
  list(key: string): unknown[] | undefined {
    if (!this.has(key)) return undefined;
    const value = this.body[key];
    if (value === null) return [];
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      if (item === null || (typeof item === 'object' && item !== null)) return this.fail(key, 'Expected a list of scalar values.');
    }
    return items;
  }

  stringList(key: string, opts: { max?: number } = {}): string[] | undefined {
    const items = this.list(key);
    if (!items) return undefined;
    const out: string[] = [];
    for (const item of items) {
      const text = String(item);
      if (text.includes('\u0000')) return this.fail(key, 'Null characters are not allowed.');
      if (opts.max !== undefined && text.length > opts.max) return this.fail(key, `Ensure each item has no more than ${opts.max} characters.`);
      out.push(text);
    }
    return out;
  }

  intList(key: string): number[] | undefined {
    const items = this.list(key);
    if (!items) return undefined;
    const out: number[] = [];
    for (const item of items) {
      const n = parseInteger(item);
      if (n === undefined) return this.fail(key, `"${String(item)}" is not a valid integer id.`);
      out.push(n);
    }
    return out;
  }

  /** A calendar date `YYYY-MM-DD`, or null. */
  date(key: string): string | null | undefined {
    if (!this.has(key)) return undefined;
    const value = this.scalar(key);
    if (value === undefined) return undefined;
    if (value === null || value === '') return null;
    if (typeof value !== 'string' || !isCalendarDate(value)) return this.fail(key, 'Date has wrong format. Use YYYY-MM-DD.');
    return value;
  }
}

export function parseBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value !== 'string') return undefined;
  if (value === 'true' || value === 'True' || value === '1') return true;
  if (value === 'false' || value === 'False' || value === '0') return false;
  return undefined;
}

const INT4_MIN = -2147483648;
const INT4_MAX = 2147483647;

/**
 * An integer within PostgreSQL's `integer` range, which every integer column
 * and id here uses: a larger value is invalid input (400, or 404 as a path
 * key), never a database error.
 */
export function parseInteger(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*-?\d{1,10}\s*$/.test(value)) n = Number(value.trim());
  else return undefined;
  return Number.isInteger(n) && n >= INT4_MIN && n <= INT4_MAX ? n : undefined;
}

export function isCalendarDate(text: string): boolean {
  // Year 0 does not exist in PostgreSQL's calendar.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || text.startsWith('0000')) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}
