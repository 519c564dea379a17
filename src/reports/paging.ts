import { createHash } from 'node:crypto';
import { invalid } from './window/reports-input';

/**
 * Keyset cursors of the reports (reports.md §1.6): opaque, carrying the sort
 * key of the last row and a digest of the query they belong to, so reusing
 * one with other parameters is a 400 instead of a silently wrong page.
 */
export type SortKey = (string | boolean | number | null)[];

/** The digest of a query: every parameter but the cursor itself and the page size, order-independent. */
export function queryDigest(query: object, route: string): string {
  const entries = Object.entries(query)
    .filter(([name, value]) => value !== undefined && name !== 'cursor' && name !== 'limit')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify([route, entries])).digest('base64url').slice(0, 22);
}

export function encodeCursor(digest: string, key: SortKey): string {
  return Buffer.from(JSON.stringify({ q: digest, k: key })).toString('base64url');
}

/** The sort key a cursor carries; 400 when it is not a cursor of this query. */
export function decodeCursor(cursor: string, digest: string, length: number): SortKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('cursor', 'is not a cursor of this report');
  }
  const { q, k } = (parsed ?? {}) as { q?: unknown; k?: unknown };
  if (typeof q !== 'string' || !Array.isArray(k) || k.length !== length) throw invalid('cursor', 'is not a cursor of this report');
  if (q !== digest) throw invalid('cursor', 'belongs to a query with other parameters');
  return k as SortKey;
}
