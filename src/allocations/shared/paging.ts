import { Injectable, PipeTransform } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AppConfig } from '../../config/app-config';
import { invalidField } from '../allocations.errors';

/*
 * HTTP paging of the allocation mount (allocations.md 2.8). Only controllers
 * and pipes use this file: services take a `Page` and answer a `PageOf`, and
 * the controller wraps it in the envelope with its absolute links.
 */

export type Query = Record<string, string | string[] | undefined>;

export interface Page {
  limit: number;
  offset: number;
}

/** One page of results as a service answers it. */
export interface PageOf<T> {
  page: Page;
  count: number;
  results: T[];
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
  if (value?.includes('\u0000')) throw invalidField(key, 'Null characters are not allowed.');
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
  if (!/^\d{1,9}$/.test(text)) throw invalidField(key, 'A non-negative integer is required.');
  return Number(text);
}

/** The query parameters every list takes, for the OpenAPI document. */
export const PAGE_PARAMS = [
  { name: 'limit', type: 'integer', description: 'page size, default 100, at most 1000' },
  { name: 'offset', type: 'integer', description: 'items to skip, default 0' },
] as const;

/** A list query read at the edge: its page and its typed filters. */
export interface ListQuery<F> {
  page: Page;
  filter: F;
}

/** Reads `limit`/`offset` and the list's filters (a pure parser of the raw query) at the edge. */
export class ListQueryPipe<F> implements PipeTransform {
  constructor(private readonly parseFilter: (query: Query) => F) {}

  transform(query: Query | undefined): ListQuery<F> {
    const raw = query ?? {};
    return { page: readPage(raw), filter: this.parseFilter(raw) };
  }
}

/**
 * The upstream list envelope with absolute `next`/`previous` links: scheme and
 * host from PUBLIC_URL when set, else from the request (which honours
 * X-Forwarded-* only with TRUST_PROXY); the path is the one the request came
 * in on (either mount prefix), every other parameter is kept (spec/README.md,
 * "Absolute URLs"; allocations.md 2.8).
 */
@Injectable()
export class Paginator {
  constructor(private readonly config: AppConfig) {}

  envelope<T>(request: FastifyRequest, { page, count, results }: PageOf<T>): Envelope<T> {
    const link = (offset: number) => pageUrl(request, this.config.publicUrl, page.limit, offset);
    const next = page.offset + page.limit < count ? link(page.offset + page.limit) : null;
    const previous = page.offset > 0 ? link(Math.max(0, page.offset - page.limit)) : null;
    return { count, next, previous, results };
  }
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
