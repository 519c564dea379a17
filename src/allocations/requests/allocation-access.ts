import { Injectable } from '@nestjs/common';
import { Principal } from '../../auth/principal';
import { Sql } from '../../database/query-result';
import { DomainError } from '../../http/domain-error';
import { AllocationsError } from '../allocations.errors';
import { AllocationRow } from './allocation-view';
import { AllocationsRepository, Owner } from './allocations.repository';

/*
 * Ownership and visibility (allocations.md 3): a user token sees the records
 * whose current record it owns (its project, or created by it); every other
 * role sees everything. Check order of allocations.md 5: 401 (guard), then
 * visibility (404, here), then role (403), then history/state (409), then
 * fields (400) (state-machine.ts).
 */

/** Whom a list is narrowed to: the user token's projects and user id, or nobody (every other role sees all). */
export function ownerOf(principal: Principal): Owner | null {
  return principal.role === 'user' ? { projectIds: principal.projectIds, userId: principal.userId } : null;
}

export function owns(principal: Principal, current: AllocationRow): boolean {
  return (current.project_id !== null && principal.projectIds.includes(current.project_id)) || (principal.userId !== null && current.created_by === principal.userId);
}

@Injectable()
export class AllocationAccess {
  constructor(private readonly allocations: AllocationsRepository) {}

  /** The record if the caller may see it, else 404; `forUpdate` locks it. */
  async loadVisible(principal: Principal, id: number | undefined, options: { forUpdate?: boolean; sql?: Sql } = {}): Promise<AllocationRow> {
    const notFound = new DomainError(AllocationsError.NotFound, `No allocation ${id ?? ''}`.trim());
    if (id === undefined) throw notFound;
    const row = await this.allocations.findById(id, { forUpdate: options.forUpdate }, options.sql);
    if (!row || !(await this.canSee(principal, row, options.sql))) throw notFound;
    return row;
  }

  /** The record locked if the caller may see it, else undefined (a reference in a body is a 400, not a 404). */
  async lockIfVisible(principal: Principal, id: number, sql: Sql): Promise<AllocationRow | undefined> {
    const row = await this.allocations.findById(id, { forUpdate: true }, sql);
    return row && (await this.canSee(principal, row, sql)) ? row : undefined;
  }

  async canSee(principal: Principal, row: AllocationRow, sql?: Sql): Promise<boolean> {
    if (principal.role !== 'user') return true;
    if (row.parent_request === null) return owns(principal, row);
    const current = await this.allocations.findById(row.parent_request, {}, sql);
    return current !== undefined && owns(principal, current);
  }
}
