import { Principal } from '../auth/principal';
import { DomainError } from '../http/domain-error';
import { ReportsError } from './reports.errors';

/**
 * The projects a query may see (reports.md §1.3): `undefined` means every
 * project (no filter, not a `user`); a list is the filter, narrowed for a
 * `user` to its own projects (no filter: all of them; a token with none: the
 * empty list, which answers empty results). A `user` naming a project
 * outside its list is a 403, whether or not the project has data.
 */
export function projectScope(principal: Principal, requested: string[] | undefined): string[] | undefined {
  if (principal.role !== 'user') return requested?.length ? [...new Set(requested)] : undefined;
  if (!requested?.length) return [...principal.projectIds];
  const foreign = requested.find((p) => !principal.projectIds.includes(p));
  if (foreign !== undefined) throw new DomainError(ReportsError.ForeignProject, 'This token may not read that project');
  return [...new Set(requested)];
}
