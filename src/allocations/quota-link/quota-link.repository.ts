import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { runOne, runRows, Sql } from '../../database/query-result';
import { BundleOf, QuotaRow } from '../requests/embedded-quotas';

/** An owed recomputation, as stored in alloc_quota_recompute. */
export interface PendingRecompute {
  projectId: string;
  seq: string;
}

export interface MappingRow {
  codename: string;
  zone: string;
  resource: string;
  factor: string;
}

/** The approval in force of a project and what its embedded quotas are made of (allocations.md 7, §10). */
export interface ApprovalInForce {
  currentId: number;
  approval: { id: number; bundle: number | null; estimated_project_duration: number };
  bundle: BundleOf | undefined;
  quotas: QuotaRow[];
}

/**
 * Every SQL statement of the quota link (allocations.md §10): the owed
 * recomputations (alloc_quota_recompute), the approval in force of a
 * project, the mapping, and the project-level holdings an allocation set.
 * It reads the allocation tables itself so that the worker needs nothing of
 * the allocation HTTP modules.
 */
@Injectable()
export class QuotaLinkRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(run: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(run);
  }

  /** Records that these projects' limits must be recomputed; a new seq each time. */
  markPending(sql: Sql, projectIds: string[]): Promise<PendingRecompute[]> {
    return runRows<PendingRecompute>(
      sql,
      `INSERT INTO "alloc_quota_recompute" ("project_id", "seq")
       SELECT p, nextval('alloc_quota_recompute_seq') FROM unnest($1::text[]) AS p ORDER BY p
       ON CONFLICT ("project_id") DO UPDATE SET "seq" = EXCLUDED."seq", "requested_at" = now()
       RETURNING "project_id" AS "projectId", "seq"::text AS "seq"`,
      [projectIds],
    );
  }

  /** Serialises the jobs of one project. */
  async lockProject(m: EntityManager, projectId: string): Promise<void> {
    await runRows(m, `SELECT pg_advisory_xact_lock(hashtext('alloc_quota_recompute'), hashtext($1))`, [projectId]);
  }

  async owedSeq(m: EntityManager, projectId: string): Promise<string | undefined> {
    return (await runOne<{ seq: string }>(m, `SELECT "seq"::text AS "seq" FROM "alloc_quota_recompute" WHERE "project_id" = $1`, [projectId]))?.seq;
  }

  async clearOwed(m: EntityManager, projectId: string, seq: string): Promise<void> {
    await runRows(m, `DELETE FROM "alloc_quota_recompute" WHERE "project_id" = $1 AND "seq" = $2`, [projectId, seq]);
  }

  /** Owed recomputations at least this old, oldest first. */
  owedOlderThan(minAgeSeconds: number): Promise<PendingRecompute[]> {
    return runRows<PendingRecompute>(
      this.db,
      `SELECT "project_id" AS "projectId", "seq"::text AS "seq" FROM "alloc_quota_recompute"
       WHERE "requested_at" <= now() - make_interval(secs => $1) ORDER BY "requested_at" LIMIT 10000`,
      [minAgeSeconds],
    );
  }

  /** Gives an owed recomputation a new seq (hence a new job id), unless it changed meanwhile. */
  renew(item: PendingRecompute): Promise<PendingRecompute[]> {
    return runRows<PendingRecompute>(
      this.db,
      `UPDATE "alloc_quota_recompute" SET "seq" = nextval('alloc_quota_recompute_seq'), "requested_at" = now()
       WHERE "project_id" = $1 AND "seq" = $2 RETURNING "project_id" AS "projectId", "seq"::text AS "seq"`,
      [item.projectId, item.seq],
    );
  }

  /**
   * The approval in force for a project (allocations.md §10): the current,
   * non-deleted record with this project_id, and among it and its history the
   * most recently modified record with status A. A current record in D (or
   * none at all) gives none.
   */
  async approvalInForce(m: EntityManager, projectId: string): Promise<ApprovalInForce | null> {
    const current = await runOne<{ id: number; status: string }>(
      m,
      `SELECT "id", "status" FROM "allocation" WHERE "parent_request" IS NULL AND "project_id" = $1
       ORDER BY ("status" = 'D'), "modified_time" DESC, "id" DESC LIMIT 1`,
      [projectId],
    );
    if (!current || current.status === 'D') return null;
    const approval = await runOne<ApprovalInForce['approval']>(
      m,
      `SELECT "id", "bundle", "estimated_project_duration" FROM "allocation" WHERE ("id" = $1 OR "parent_request" = $1) AND "status" = 'A'
       ORDER BY "modified_time" DESC, "id" DESC LIMIT 1`,
      [current.id],
    );
    if (!approval) return null;
    const bundle = approval.bundle !== null ? await runOne<BundleOf>(m, `SELECT "zone", "su_per_year" FROM "alloc_bundle" WHERE "id" = $1`, [approval.bundle]) : undefined;
    const quotas = await runRows<QuotaRow>(m, `SELECT "allocation", "resource", "zone", "quota" FROM "allocation_quota" WHERE "allocation" = $1 ORDER BY "id"`, [approval.id]);
    return { currentId: current.id, approval, bundle, quotas };
  }

  /** Resource id → codename, and the codenames of boolean resources. */
  async resourceCodenames(m: EntityManager): Promise<{ codenames: Map<number, string>; booleans: Set<string> }> {
    const rows = await runRows<{ id: number; codename: string; resource_type: string }>(
      m,
      `SELECT "id", "service_type" || '.' || "quota_name" AS "codename", "resource_type" FROM "alloc_resource"`,
    );
    return { codenames: new Map(rows.map((r) => [r.id, r.codename])), booleans: new Set(rows.filter((r) => r.resource_type === 'boolean').map((r) => r.codename)) };
  }

  mappings(m: EntityManager): Promise<MappingRow[]> {
    return runRows<MappingRow>(m, `SELECT "codename", "zone", "resource", "factor"::text AS "factor" FROM "alloc_quota_mapping"`);
  }

  /** The project-level holdings whose limit an allocation set (origin `allocation:<id>`). */
  allocationHoldings(m: EntityManager, holder: string): Promise<{ resource: string; origin: string }[]> {
    return runRows(m, `SELECT "resource", "origin" FROM "quota_holding" WHERE "holder" = $1 AND "source" IS NULL AND "origin" LIKE 'allocation:%' ORDER BY "resource"`, [holder]);
  }
}
