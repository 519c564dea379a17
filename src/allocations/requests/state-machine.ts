import { Role } from '../../auth/api-token.entity';
import { Principal } from '../../auth/principal';
import { DomainError } from '../../http/domain-error';
import { AllocationsError } from '../allocations.errors';

/*
 * The allocation state machine (allocations.md 5): status codes, who may do
 * which action from which state, and the checks in the contract's order
 * (role 403, then history 409, then state 409). Pure: the service runs the
 * checks on a locked row and the repository writes the result.
 */

/** Labels on the wire (allocations.md 5; the server's labels, not the client's). */
export const STATUS_DISPLAY: Record<string, string> = {
  N: 'New',
  E: 'Submitted',
  A: 'Approved',
  R: 'Declined',
  X: 'Update requested',
  J: 'Update declined',
  D: 'Deleted',
  L: 'Legacy',
  M: 'Legacy Approved',
  O: 'Legacy Rejected',
};

export type Action = 'approve' | 'decline' | 'amend' | 'delete';

interface Transition {
  roles: readonly Role[];
  /** Legal from-states; undefined: any. */
  from?: readonly string[];
  /** The to-state, by from-state. */
  to: (from: string) => string;
  /** Whether the approval in force may change, so the project's limits are recomputed (allocations.md §10). */
  movesLimits: boolean;
}

const PRIVILEGED = ['admin', 'service'] as const;

export const TRANSITIONS: Record<Action, Transition> = {
  approve: { roles: PRIVILEGED, from: ['E', 'X'], to: () => 'A', movesLimits: true },
  decline: { roles: PRIVILEGED, from: ['E', 'X'], to: (from) => (from === 'E' ? 'R' : 'J'), movesLimits: false },
  amend: { roles: ['admin', 'service', 'user'], from: ['A', 'R', 'J'], to: () => 'X', movesLimits: false },
  delete: { roles: PRIVILEGED, to: () => 'D', movesLimits: true },
};

const ACTION_WORDS: Record<Action, string> = { approve: 'approve', decline: 'decline', amend: 'amend', delete: 'delete' };

/** The part of a record the state machine looks at. */
export interface StateOf {
  id: number;
  status: string;
  parent_request: number | null;
}

/**
 * Checks an action on a visible record (403, 409) and gives its to-state, or
 * null when it changes nothing (delete on D is idempotent, allocations.md 5).
 */
export function transition(principal: Principal, row: StateOf, action: Action): string | null {
  const t = TRANSITIONS[action];
  requireRole(principal, t.roles, `${ACTION_WORDS[action]} allocations`);
  requireCurrent(row);
  if (action === 'delete' && row.status === 'D') return null;
  if (t.from) requireState(row, t.from, ACTION_WORDS[action]);
  return t.to(row.status);
}

/** PATCH: admin and service in any state but history; a user in E or X only (allocations.md 5). */
export function checkUpdate(principal: Principal, row: StateOf): void {
  requireRole(principal, ['admin', 'service', 'user'], 'update allocations');
  requireCurrent(row);
  if (principal.role === 'user') requireState(row, ['E', 'X'], 'update');
}

export function requireRole(principal: Principal, roles: readonly Role[], what: string): void {
  if (!roles.includes(principal.role)) throw new DomainError(AllocationsError.Forbidden, `A ${principal.role} token may not ${what}`);
}

/** History records are frozen for every role (allocations.md 5). */
export function requireCurrent(row: StateOf): void {
  if (row.parent_request !== null) {
    throw new DomainError(AllocationsError.HistoryFrozen, `Allocation ${row.id} is a history record of allocation ${row.parent_request} and cannot be changed`);
  }
}

export function requireState(row: StateOf, allowed: readonly string[], what: string): void {
  if (!allowed.includes(row.status)) {
    throw new DomainError(AllocationsError.WrongState, `Cannot ${what} allocation ${row.id}: its status is ${row.status}; allowed from ${allowed.join(', ')}`);
  }
}

/** Attached records (quotas, CIs, grants, publications) are written only while the allocation is a current E or X (allocations.md 7, 9). */
export function requireEditable(row: StateOf, what: string): void {
  requireCurrent(row);
  requireState(row, ['E', 'X'], what);
}
