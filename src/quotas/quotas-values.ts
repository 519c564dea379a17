import { DomainError } from '../http/domain-error';
import { QuotasError } from './quotas.errors';

/** node-postgres returns bigint as text; the wire always carries JSON numbers (quotas.md 2, "Numbers"). */
export function num(value: string | number): number {
  return typeof value === 'number' ? value : Number(value);
}

export function badRequest(message: string): DomainError {
  return new DomainError(QuotasError.BadRequest, message);
}

export const USER_PREFIX = 'user:';
export const PROJECT_PREFIX = 'project:';

/** `user:<uuid>` → `<uuid>`, `project:<uuid>` → `<uuid>` (keys of the quota answers are bare, 2). */
export function stripPrefix(value: string): string {
  if (value.startsWith(USER_PREFIX)) return value.slice(USER_PREFIX.length);
  if (value.startsWith(PROJECT_PREFIX)) return value.slice(PROJECT_PREFIX.length);
  return value;
}

/** The three numbers of a holding on the wire (5.1): usage is the high bound, pending the spread. */
export function wireCounters(row: { limit: string; usage_min: string; usage_max: string }): { limit: number; usage: number; pending: number } {
  const usageMax = num(row.usage_max);
  return { limit: num(row.limit), usage: usageMax, pending: usageMax - num(row.usage_min) };
}

/** The identity of a holding key (holder, source, resource), for maps; the NULL source included (5.1). */
export function holdingKey(k: { holder: string; source: string | null; resource: string }): string {
  return JSON.stringify([k.holder, k.source, k.resource]);
}
