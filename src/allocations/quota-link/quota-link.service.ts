import { Injectable, Inject } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource, EntityManager } from 'typeorm';
import { JobQueueService } from '../../queue/job-queue.service';
import { LimitEntry, QuotasService, UNLIMITED } from '../../quotas/quotas.service';
import { PROJECT_PREFIX } from '../../quotas/quotas-values';
import { LOGGER } from '../../core/tokens';
import { ALLOCATION_SELECT, AllocationContext, AllocationRow } from '../allocation-view';

export const APPLY_QUOTAS_JOB = 'allocations.apply-quotas';

/** An owed recomputation, as stored in alloc_quota_recompute. */
export interface PendingRecompute {
  projectId: string;
  seq: string;
}

/** BullMQ refuses ':' in job ids; the seq is a number, so the id never has one. */
export function applyJobId(seq: string): string {
  return `alloc-quotas-${seq}`;
}

/** What quotas.service accepts after `project:` (no whitespace, no leading ':'). */
const HOLDER_ID = /^[^\s:][^\s]*$/;
const ORIGIN_PREFIX = 'allocation:';

interface MappingRow {
  codename: string;
  zone: string;
  resource: string;
  factor: string;
}

/**
 * The link from approved allocations to quota limits (allocations.md §10).
 * Producers call `markPending` inside their transaction and `enqueue` after
 * the commit; the job calls `apply`.
 */
@Injectable()
export class QuotaLinkService {
  private readonly log: Logger;

  constructor(
    private readonly db: DataSource,
    private readonly jobs: JobQueueService,
    private readonly quotas: QuotasService,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'allocation-quotas' });
  }

  /**
   * Records, in the caller's transaction, that these projects' limits must be
   * recomputed; a new seq each time. Null and empty project ids are skipped.
   */
  async markPending(m: EntityManager, projectIds: (string | null | undefined)[]): Promise<PendingRecompute[]> {
    const ids = [...new Set(projectIds.filter((p): p is string => typeof p === 'string' && p !== ''))].sort();
    if (ids.length === 0) return [];
    return m.query(
      `INSERT INTO "alloc_quota_recompute" ("project_id", "seq")
       SELECT p, nextval('alloc_quota_recompute_seq') FROM unnest($1::text[]) AS p ORDER BY p
       ON CONFLICT ("project_id") DO UPDATE SET "seq" = EXCLUDED."seq", "requested_at" = now()
       RETURNING "project_id" AS "projectId", "seq"::text AS "seq"`,
      [ids],
    );
  }

  /**
   * Enqueues the jobs after the commit. A failure is logged, not thrown: the
   * change is committed and the sweeper enqueues what is still owed.
   */
  async enqueue(pending: PendingRecompute[]): Promise<void> {
    for (const { projectId, seq } of pending) {
      try {
        await this.jobs.enqueue(APPLY_QUOTAS_JOB, { projectId }, { jobId: applyJobId(seq) });
      } catch (error) {
        this.log.warn({ projectId, err: { message: (error as Error).message } }, 'enqueue failed; the sweeper will retry');
      }
    }
  }

  /**
   * The job: sets the project's limits from its approval in force, in one
   * transaction, and clears the owed recomputation it has done. Idempotent:
   * it sets limits, never adds to them. Jobs for one project serialise on an
   * advisory lock; one that read an older seq leaves the newer request owed.
   */
  async apply(projectId: string): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('alloc_quota_recompute'), hashtext($1))`, [projectId]);
      // Read the seq before the allocations: a change committed after this read bumps it, so its own job still runs.
      const owed: { seq: string }[] = await m.query(`SELECT "seq"::text AS "seq" FROM "alloc_quota_recompute" WHERE "project_id" = $1`, [projectId]);
      if (HOLDER_ID.test(projectId)) {
        await this.setProjectLimits(m, projectId);
      } else {
        this.log.warn({ projectId }, 'project_id cannot name a quota holder; no limits set');
      }
      if (owed.length) await m.query(`DELETE FROM "alloc_quota_recompute" WHERE "project_id" = $1 AND "seq" = $2`, [projectId, owed[0].seq]);
    });
  }

  private async setProjectLimits(m: EntityManager, projectId: string): Promise<void> {
    const holder = PROJECT_PREFIX + projectId;
    const inForce = await this.approvalInForce(m, projectId);
    const wanted = inForce ? await this.mappedLimits(m, inForce.approval) : new Map<string, number>();
    const previous: { resource: string; origin: string }[] = await m.query(
      `SELECT "resource", "origin" FROM "quota_holding" WHERE "holder" = $1 AND "source" IS NULL AND "origin" LIKE 'allocation:%' ORDER BY "resource"`,
      [holder],
    );

    // Limits in force, then withdrawals (limit 0) of what an allocation set before and the mapping no longer gives.
    const byOrigin = new Map<string, LimitEntry[]>();
    const add = (origin: string, entry: LimitEntry) => byOrigin.set(origin, [...(byOrigin.get(origin) ?? []), entry]);
    if (inForce) {
      for (const [resource, limit] of wanted) add(ORIGIN_PREFIX + inForce.currentId, { holder, source: null, resource, limit });
    }
    for (const row of previous) {
      if (wanted.has(row.resource)) continue;
      add(inForce ? ORIGIN_PREFIX + inForce.currentId : row.origin, { holder, source: null, resource: row.resource, limit: 0 });
    }
    for (const [origin, entries] of byOrigin) await this.quotas.setLimits(entries, { origin, manager: m });
    this.log.info({ projectId, allocation: inForce?.currentId ?? null, approval: inForce?.approval.id ?? null, limits: Object.fromEntries(wanted) }, 'project limits set from allocation');
  }

  /**
   * The approval in force for a project (allocations.md §10): the current,
   * non-deleted record with this project_id, and among it and its history the
   * most recently modified record with status A. A current record in D (or
   * none at all) gives none.
   */
  private async approvalInForce(m: EntityManager, projectId: string): Promise<{ currentId: number; approval: AllocationRow } | null> {
    const current: { id: number; status: string }[] = await m.query(
      `SELECT "id", "status" FROM "allocation" WHERE "parent_request" IS NULL AND "project_id" = $1
       ORDER BY ("status" = 'D'), "modified_time" DESC, "id" DESC LIMIT 1`,
      [projectId],
    );
    if (current.length === 0 || current[0].status === 'D') return null;
    const approvals: AllocationRow[] = await m.query(
      `${ALLOCATION_SELECT} WHERE (a."id" = $1 OR a."parent_request" = $1) AND a."status" = 'A' ORDER BY a."modified_time" DESC, a."id" DESC LIMIT 1`,
      [current[0].id],
    );
    return approvals.length ? { currentId: current[0].id, approval: approvals[0] } : null;
  }

  /**
   * The allocation's embedded quotas through the mapping: an exact-zone
   * mapping wins over an any-zone one; unmapped codenames are ignored; quotas
   * mapped to one resource add up (×factor); -1 is unlimited; a boolean
   * resource gives 0 or 1, whatever the factor.
   */
  private async mappedLimits(m: EntityManager, approval: AllocationRow): Promise<Map<string, number>> {
    const mappings: MappingRow[] = await m.query(`SELECT "codename", "zone", "resource", "factor"::text AS "factor" FROM "alloc_quota_mapping"`);
    const byKey = new Map(mappings.map((r) => [`${r.codename}\u0000${r.zone}`, r]));
    const types: { codename: string; resource_type: string }[] = await m.query(
      `SELECT "service_type" || '.' || "quota_name" AS "codename", "resource_type" FROM "alloc_resource"`,
    );
    const booleans = new Set(types.filter((r) => r.resource_type === 'boolean').map((r) => r.codename));
    const quotas = (await AllocationContext.load(m, [approval])).embeddedQuotas(approval);

    const totals = new Map<string, { sum: bigint; unlimited: boolean; allBoolean: boolean }>();
    for (const q of quotas) {
      const mapping = byKey.get(`${q.resource}\u0000${q.zone}`) ?? byKey.get(`${q.resource}\u0000`);
      if (!mapping) continue;
      const total = totals.get(mapping.resource) ?? { sum: 0n, unlimited: false, allBoolean: true };
      const boolean = booleans.has(q.resource);
      if (boolean) {
        total.sum += q.quota !== 0 ? 1n : 0n;
      } else if (q.quota < 0) {
        total.unlimited = true;
        total.allBoolean = false;
      } else {
        total.sum += BigInt(q.quota) * BigInt(mapping.factor);
        total.allBoolean = false;
      }
      totals.set(mapping.resource, total);
    }
    const limits = new Map<string, number>();
    for (const [resource, total] of [...totals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      let limit = total.unlimited || total.sum > BigInt(UNLIMITED) ? UNLIMITED : Number(total.sum);
      if (total.allBoolean) limit = Math.min(limit, 1);
      limits.set(resource, limit);
    }
    return limits;
  }
}
