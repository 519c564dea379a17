import { ADMIN_TOKEN, TestApp } from './test-app';

/** A ledger entry as the budget-debits suites compare it (id and reversal as decimal strings). */
export interface EntrySummary {
  id: string;
  budget_id: string;
  kind: string;
  amount: string;
  ref: string | null;
  source: string | null;
  reverses: string | null;
  hold_id: string | null;
  at: string;
}

/**
 * The ledger entries of a project other than grants, oldest first, read
 * from the table: the ledger route is the budget routes' subject (another
 * suite); these suites check what the writers posted.
 */
export async function entriesOf(t: TestApp, projectId: string): Promise<EntrySummary[]> {
  return t.runtime.dataSource.query(
    `SELECT id::text AS id, budget_id::text AS budget_id, kind, amount::text AS amount, ref, source, reverses::text AS reverses, hold_id,
            to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
     FROM report_budget_entry WHERE project_id = $1 AND kind NOT IN ('grant') ORDER BY id`,
    [projectId],
  );
}

/** A budget's balance row (6.3 figures as stored, without today's live accrual). */
export async function balanceOf(t: TestApp, budgetId: string): Promise<{ granted: string; consumed: string; held: string; outside_period: string }> {
  const [row] = await t.runtime.dataSource.query(
    `SELECT granted::text AS granted, consumed::text AS consumed, held::text AS held, outside_period::text AS outside_period FROM report_budget WHERE id = $1`,
    [budgetId],
  );
  return row;
}

/** Runs a report job route's job to its end (`/admin/reports/jobs/{id}`); answers the job. */
export async function settledJob(t: TestApp, token: string, id: string, timeoutMs = 60_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await t.http.get(`/admin/reports/jobs/${id}`).set('X-Auth-Token', token).expect(200);
    if (['succeeded', 'failed', 'cancelled'].includes(res.body.state)) return res.body;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${res.body.state}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs `POST /admin/reports/consistency-checks` (reports.md 7.5) to its end; answers the job's result (the job must succeed). */
export async function consistencyCheck(t: TestApp, body: Record<string, unknown>): Promise<{ mismatch_count: number; mismatches: Record<string, unknown>[] }> {
  const res = await t.http.post('/admin/reports/consistency-checks').set('X-Auth-Token', ADMIN_TOKEN).send(body);
  if (res.status !== 202) throw new Error(`POST /admin/reports/consistency-checks answered ${res.status}: ${JSON.stringify(res.body)}`);
  const done = await settledJob(t, ADMIN_TOKEN, res.body.id as string);
  if (done.state !== 'succeeded') throw new Error(`check ${res.body.id} ended ${done.state}: ${JSON.stringify(done.error)}`);
  return done.result;
}
