import { EntityManager, DataSource } from 'typeorm';
import { Role } from '../auth/api-token.entity';
import { Principal } from '../auth/principal';
import { DomainError } from '../http/domain-error';
import { AllocationsError } from './allocations.errors';
import { ALLOCATION_SELECT, AllocationRow } from './allocation-view';

/*
 * Ownership and the check order of allocations.md 3 and 5: 401 (guard), then
 * visibility (404), then role (403), then history/state (409), then fields (400).
 */

/** SQL condition (on alias `a`) for "a user token may see this record": it owns the current record (allocations.md 3). */
export function ownedCondition(projectsParam: string, userParam: string, alias = 'a'): string {
  return `EXISTS (SELECT 1 FROM "allocation" own WHERE own."id" = COALESCE(${alias}."parent_request", ${alias}."id")
    AND (own."project_id" = ANY(${projectsParam}) OR own."created_by" = ${userParam}))`;
}

/** The record if the caller may see it, else 404; `forUpdate` locks it (and its current record). */
export async function loadVisible(m: DataSource | EntityManager, principal: Principal, id: number | undefined, forUpdate = false): Promise<AllocationRow> {
  const notFound = new DomainError(AllocationsError.NotFound, `No allocation ${id ?? ''}`.trim());
  if (id === undefined) throw notFound;
  const rows: AllocationRow[] = await m.query(`${ALLOCATION_SELECT} WHERE a."id" = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  const row = rows[0];
  if (!row || !(await canSee(m, principal, row))) throw notFound;
  return row;
}

export async function canSee(m: DataSource | EntityManager, principal: Principal, row: AllocationRow): Promise<boolean> {
  if (principal.role !== 'user') return true;
  if (row.parent_request === null) return owns(principal, row);
  const current: AllocationRow[] = await m.query(`${ALLOCATION_SELECT} WHERE a."id" = $1`, [row.parent_request]);
  return current.length > 0 && owns(principal, current[0]);
}

export function owns(principal: Principal, current: AllocationRow): boolean {
  return (current.project_id !== null && principal.projectIds.includes(current.project_id)) || (principal.userId !== null && current.created_by === principal.userId);
}

export function requireRole(principal: Principal, roles: readonly Role[], what: string): void {
  if (!roles.includes(principal.role)) throw new DomainError(AllocationsError.Forbidden, `A ${principal.role} token may not ${what}`);
}

/** History records are frozen for every role (allocations.md 5). */
export function requireCurrent(row: AllocationRow): void {
  if (row.parent_request !== null) {
    throw new DomainError(AllocationsError.HistoryFrozen, `Allocation ${row.id} is a history record of allocation ${row.parent_request} and cannot be changed`);
  }
}

export function requireState(row: AllocationRow, allowed: readonly string[], what: string): void {
  if (!allowed.includes(row.status)) {
    throw new DomainError(AllocationsError.WrongState, `Cannot ${what} allocation ${row.id}: its status is ${row.status}; allowed from ${allowed.join(', ')}`);
  }
}

/** Attached records (quotas, CIs, grants, publications) are written only while the allocation is a current E or X (allocations.md 7, 9). */
export function requireEditable(row: AllocationRow, what: string): void {
  requireCurrent(row);
  requireState(row, ['E', 'X'], what);
}
