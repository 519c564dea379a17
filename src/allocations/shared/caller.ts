import { Principal } from '../../auth/principal';

/** The name a principal goes by in `approver_email`, `proposed_by`, `vetted_by` and `created_by` (allocations.md 3, 4). */
export function callerName(principal: Principal): string {
  return principal.userId ?? principal.name;
}
