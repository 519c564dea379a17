import { FastifyRequest } from 'fastify';
import { DomainError } from '../http/domain-error';
import { AllocationsError } from './allocations.errors';

export type Query = Record<string, string | string[] | undefined>;

export interface Page {
  limit: number;
  offset: number;
}

export interface Envelope<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** One value of a query parameter; a repeated parameter gives its last value. */
export function queryValue(query: Query, key: string): string | undefined {
  const raw = query[key];
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  // PostgreSQL text cannot hold NUL; refuse it here rather than fail in SQL.
  if (value?.includes('\u0000')) {
    throw new DomainError(AllocationsError.Validation, `${key}: null characters are not allowed`, { fields: { [key]: ['Null characters are not allowed.'] } });
  }
  return value;
}

/**
 * `limit` (default 100, clamped to 1000) and `offset` (allocations.md 2.8).
 * `limit=0` means the default, as upstream's paginator does: a page of zero
 * items would send the client round its `next` link for ever.
 */
export function readPage(query: Query): Page {
  return {
    limit: Math.min(readNonNegative(query, 'limit') || DEFAULT_LIMIT, MAX_LIMIT),
    offset: readNonNegative(query, 'offset') ?? 0,
  };
}

function readNonNegative(query: Query, key: string): number | undefined {
  const text = queryValue(query, key);
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text)) {
    throw new DomainError(AllocationsError.Validation, `${key}: must be a non-negative integer`, { fields: { [key]: ['A non-negative integer is required.'] } });
  }
  return Number(text);
}

/**
 * The upstream list envelope with absolute `next`/`previous` links: scheme and
 * host from PUBLIC_URL when set, else from the request (which honours
 * X-Forwarded-* only with TRUST_PROXY); the path is the one the request came
 * in on (either mount prefix), every other parameter is kept (spec/README.md,
 * "Absolute URLs"; allocations.md 2.8).
 */
export function envelope<T>(request: FastifyRequest, publicUrl: string | undefined, page: Page, count: number, results: T[]): Envelope<T> {
  const link = (offset: number) => pageUrl(request, publicUrl, page.limit, offset);
  const next = page.offset + page.limit < count ? link(page.offset + page.limit) : null;
  const previous = page.offset > 0 ? link(Math.max(0, page.offset - page.limit)) : null;
  return { count, next, previous, results };
}

function pageUrl(request: FastifyRequest, publicUrl: string | undefined, limit: number, offset: number): string {
  const [path, search = ''] = request.url.split('?', 2);
  const params = new URLSearchParams(search);
  params.delete('limit');
  params.delete('offset');
  params.append('limit', String(limit));
  params.append('offset', String(offset));
  const base = publicUrl ?? `${request.protocol}://${request.host}`;
  return `${base}${path}?${params.toString()}`;
}
