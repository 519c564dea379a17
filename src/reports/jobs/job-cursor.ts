import { createHash } from 'node:crypto';
import { CommonError, DomainError } from '../../http/domain-error';
import { JobFilter, JobPosition } from './report-job.repository';

/*
 * The keyset cursor of GET /admin/reports/jobs (reports.md 1.6): opaque to
 * clients, it holds the last row's position and a fingerprint of the filters
 * it was made for, so reusing it with other filters is a 400. `limit` is not
 * part of the fingerprint: a client may change its page size between pages
 * without losing or repeating a row.
 */

interface CursorBody {
  c: string;
  i: string;
  q: string;
}

function fingerprint(filter: JobFilter): string {
  return createHash('sha256')
    .update(JSON.stringify([filter.kind ?? null, filter.state ?? null]))
    .digest('base64url')
    .slice(0, 16);
}

export function encodeJobCursor(position: JobPosition, filter: JobFilter): string {
  const body: CursorBody = { c: position.createdAt, i: position.id, q: fingerprint(filter) };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

function cursorError(rule: string): DomainError {
  return new DomainError(CommonError.Validation, `cursor: ${rule}`, { fields: { cursor: rule } });
}

/** The position a cursor holds; a 400 naming `cursor` when it is not one of ours or belongs to other filters. */
export function decodeJobCursor(cursor: string, filter: JobFilter): JobPosition {
  let body: Partial<CursorBody>;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw cursorError('not a cursor of this list');
  }
  if (
    !body ||
    typeof body !== 'object' ||
    typeof body.c !== 'string' ||
    typeof body.i !== 'string' ||
    typeof body.q !== 'string' ||
    !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(body.c) ||
    !/^job_[0-9A-Z]{26}$/.test(body.i) ||
    Number.isNaN(Date.parse(body.c))
  ) {
    throw cursorError('not a cursor of this list');
  }
  if (body.q !== fingerprint(filter)) throw cursorError('was made for other parameters');
  return { createdAt: body.c, id: body.i };
}
