import { createHash } from 'node:crypto';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { applyDecorators } from '@nestjs/common';
import { IsOptional, IsString, MaxLength, ValidateBy, ValidationArguments } from 'class-validator';
import { Transform } from 'class-transformer';
import { invalid } from '../window/reports-input';

/** Keyset paging of the reports' JSON lists (reports.md §1.6). */
export const DEFAULT_LIMIT = 1000;
export const MAX_LIMIT = 10000;

/**
 * `limit`: a whole number from 1 to 10000, default 1000; larger is a 400,
 * never clamped (a report silently cut is worse than an error).
 */
export const LimitParam = () =>
  applyDecorators(
    ApiPropertyOptional({ type: Number, minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: `rows per page, 1 to ${MAX_LIMIT}; larger is 400, not clamped` }),
    IsOptional(),
    Transform(({ value }) => (typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value)),
    ValidateBy({
      name: 'limit',
      validator: {
        validate: (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= MAX_LIMIT,
        defaultMessage: (args?: ValidationArguments) =>
          typeof args?.value === 'number' ? (args.value < 1 ? 'must be at least 1' : `must be at most ${MAX_LIMIT}`) : `must be a whole number from 1 to ${MAX_LIMIT}`,
      },
    }),
  );

/** `cursor`: opaque, from the previous page's `next_cursor`. */
export const CursorParam = () =>
  applyDecorators(
    ApiPropertyOptional({ type: String, description: "opaque, from the previous page's next_cursor; only with the same other parameters" }),
    IsOptional(),
    IsString({ message: 'must be a string' }),
    MaxLength(4096, { message: 'is not a cursor of this route' }),
  );

/**
 * The fingerprint a cursor carries: the route and every parameter but
 * `cursor` and `limit` (a page may be larger or smaller than the previous
 * one), lists as sets. A cursor given with other parameters is a 400.
 */
export function queryFingerprint(route: string, query: object): string {
  const canonical: [string, unknown][] = Object.entries(query)
    .filter(([name, value]) => name !== 'cursor' && name !== 'limit' && value !== undefined)
    .map(([name, value]): [string, unknown] => [name, Array.isArray(value) ? [...new Set(value.map(String))].sort() : value])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify([route, canonical])).digest('base64url').slice(0, 22);
}

/** The cursor after the last row of a page: the fingerprint and the row's keyset values. */
export function encodeCursor(fingerprint: string, keys: readonly string[]): string {
  return Buffer.from(JSON.stringify({ q: fingerprint, k: keys }), 'utf8').toString('base64url');
}

/**
 * The keyset values of a cursor of this query (`arity` strings, each
 * passing `wellFormed`, so that a forged cursor never reaches a cast), or a 400
 * `cursor: …` when it is not one of this route's cursors or was issued for
 * other parameters.
 */
export function decodeCursor(cursor: string, fingerprint: string, arity: number, wellFormed: (keys: string[]) => boolean = () => true): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('cursor', 'is not a cursor of this route');
  }
  const { q, k } = (parsed ?? {}) as { q?: unknown; k?: unknown };
  if (typeof q !== 'string' || !Array.isArray(k) || k.length !== arity || !k.every((v) => typeof v === 'string' && !v.includes('\u0000')) || !wellFormed(k)) {
    throw invalid('cursor', 'is not a cursor of this route');
  }
  if (q !== fingerprint) throw invalid('cursor', 'was issued for other parameters; start again without a cursor');
  return k as string[];
}
