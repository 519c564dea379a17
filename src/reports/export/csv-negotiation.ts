import { DomainError, CommonError } from '../../http/domain-error';

export type ReportFormat = 'json' | 'csv';

/** What the negotiation reads from a list route's query (its DTO). */
export interface FormatQuery {
  format?: ReportFormat;
  limit?: unknown;
  cursor?: unknown;
}

/**
 * JSON or CSV (reports.md 1.7): `format` wins when given; otherwise
 * `Accept: text/csv` asks for CSV when text/csv is the most preferred of the
 * types it lists (ties go to the one listed first), `application/json` and
 * wildcards keep JSON, the default. A CSV answer has no paging: `limit` and
 * `cursor` are `400`, the first in route order named in `error`.
 */
export function negotiateFormat(query: FormatQuery, accept: string | string[] | undefined): ReportFormat {
  const format = query.format ?? (prefersCsv(accept) ? 'csv' : 'json');
  if (format === 'csv') {
    const fields: Record<string, string> = {};
    for (const name of ['limit', 'cursor'] as const) {
      if (query[name] !== undefined) fields[name] = 'not accepted with CSV: an export has no pages';
    }
    const first = Object.keys(fields)[0];
    if (first) throw new DomainError(CommonError.Validation, `${first}: ${fields[first]}`, { fields });
  }
  return format;
}

/** Whether an Accept header prefers text/csv over every other type it names. */
export function prefersCsv(accept: string | string[] | undefined): boolean {
  const header = Array.isArray(accept) ? accept.join(',') : accept;
  if (!header) return false;
  let best: { type: string; q: number } | undefined;
  for (const part of header.split(',')) {
    const [rawType, ...params] = part.split(';');
    const type = rawType.trim().toLowerCase();
    if (!type) continue;
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split('=').map((s) => s.trim());
      if (name?.toLowerCase() === 'q') {
        const parsed = Number(value);
        q = Number.isFinite(parsed) && parsed >= 0 && parsed <= 1 ? parsed : 0;
      }
    }
    if (q > 0 && (!best || q > best.q)) best = { type, q };
  }
  return best?.type === 'text/csv';
}
