import { decodeCursor, encodeCursor, queryDigest } from '../paging';
import { invalid } from '../window/reports-input';
import { JobFilter, JobPosition } from './report-job.repository';

/*
 * The keyset cursor of GET /admin/reports/jobs (reports.md 1.6), in the
 * reports' cursor format (src/reports/paging.ts): the last row's created_at
 * (microseconds) and id, bound to the filters (not to `limit`).
 */

const ROUTE = 'admin/reports/jobs';

export function encodeJobCursor(position: JobPosition, filter: JobFilter): string {
  return encodeCursor(queryDigest(filter, ROUTE), [position.createdAt, position.id]);
}

/** The position a cursor holds; a 400 naming `cursor` when it is not one of this list or belongs to other filters. */
export function decodeJobCursor(cursor: string, filter: JobFilter): JobPosition {
  const [createdAt, id] = decodeCursor(cursor, queryDigest(filter, ROUTE), 2);
  if (
    typeof createdAt !== 'string' ||
    typeof id !== 'string' ||
    !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(createdAt) ||
    Number.isNaN(Date.parse(createdAt)) ||
    !/^job_[0-9A-Z]{26}$/.test(id)
  ) {
    throw invalid('cursor', 'is not a cursor of this report');
  }
  return { createdAt, id };
}
