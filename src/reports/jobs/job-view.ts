import Decimal from 'decimal.js';
import { JobView } from './dto/jobs.views';
import { FINAL_STATES, JobRow } from './report-job.repository';

/** The wire form of a job (reports.md 4.7). */
export function toView(row: JobRow): JobView {
  const total = row.progress_total;
  const done = row.progress_done;
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    reason: row.reason,
    created_at: row.created_at,
    created_by: row.created_by,
    started_at: row.started_at,
    finished_at: row.finished_at,
    scope: (row.scope ?? {}) as Record<string, unknown>,
    progress: {
      total,
      done,
      ratio: total === null ? null : total === 0 ? (row.state === 'succeeded' ? '1.000000' : '0.000000') : new Decimal(Math.min(done, total)).div(total).toFixed(6, Decimal.ROUND_HALF_EVEN),
      eta_seconds: etaSeconds(row),
    },
    result: (row.result ?? null) as Record<string, unknown> | null,
    error: row.error,
  };
}

/** Null until a chunk has finished; 0 once succeeded; the remaining work at the pace so far while running. */
function etaSeconds(row: JobRow): number | null {
  if (row.state === 'succeeded') return 0;
  if (FINAL_STATES.includes(row.state) || row.progress_total === null || row.progress_done <= 0 || row.elapsed_seconds === null) return null;
  const left = Math.max(0, row.progress_total - row.progress_done);
  return Math.round((row.elapsed_seconds * left) / row.progress_done);
}
