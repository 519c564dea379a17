import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { EntityManager } from 'typeorm';
import { LOGGER } from '../../core/tokens';
import { JobQueueService } from '../../queue/job-queue.service';
import { PROJECT_PREFIX } from '../../quotas/quotas-values';
import { LimitEntry, QuotasService, UNLIMITED } from '../../quotas/quotas.service';
import { embeddedQuotas } from '../requests/embedded-quotas';
import { ApprovalInForce, MappingRow, PendingRecompute, QuotaLinkRepository } from './quota-link.repository';

export type { PendingRecompute } from './quota-link.repository';

export const APPLY_QUOTAS_JOB = 'allocations.apply-quotas';

/** BullMQ refuses ':' in job ids; the seq is a number, so the id never has one. */
export function applyJobId(seq: string): string {
  return `alloc-quotas-${seq}`;
}

/** What quotas.service accepts after `project:` (no whitespace, no leading ':'). */
const HOLDER_ID = /^[^\s:][^\s]*$/;
const ORIGIN_PREFIX = 'allocation:';

/**
 * The link from approved allocations to quota limits (allocations.md §10).
 * Producers call `markPending` inside their transaction and `enqueue` after
 * the commit; the job calls `apply`.
 */
@Injectable()
export class QuotaLinkService {
  private readonly log: Logger;

  constructor(
    private readonly link: QuotaLinkRepository,
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
    return ids.length === 0 ? [] : this.link.markPending(m, ids);
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
    await this.link.transaction(async (m) => {
      await this.link.lockProject(m, projectId);
      // Read the seq before the allocations: a change committed after this read bumps it, so its own job still runs.
      const owed = await this.link.owedSeq(m, projectId);
      if (HOLDER_ID.test(projectId)) {
        await this.setProjectLimits(m, projectId);
      } else {
        this.log.warn({ projectId }, 'project_id cannot name a quota holder; no limits set');
      }
      if (owed !== undefined) await this.link.clearOwed(m, projectId, owed);
    });
  }

  private async setProjectLimits(m: EntityManager, projectId: string): Promise<void> {
    const holder = PROJECT_PREFIX + projectId;
    const inForce = await this.link.approvalInForce(m, projectId);
    const wanted = inForce ? await this.mappedLimits(m, inForce) : new Map<string, number>();
    const previous = await this.link.allocationHoldings(m, holder);

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
   * The allocation's embedded quotas through the mapping: an exact-zone
   * mapping wins over an any-zone one; unmapped codenames are ignored; quotas
   * mapped to one resource add up (×factor); -1 is unlimited; a boolean
   * resource gives 0 or 1, whatever the factor.
   */
  private async mappedLimits(m: EntityManager, inForce: ApprovalInForce): Promise<Map<string, number>> {
    const mappings: MappingRow[] = await this.link.mappings(m);
    const byKey = new Map(mappings.map((r) => [`${r.codename}\u0000${r.zone}`, r]));
    const { codenames, booleans } = await this.link.resourceCodenames(m);
    const quotas = embeddedQuotas(inForce.approval, inForce.bundle, inForce.quotas, codenames);

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
