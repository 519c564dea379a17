/**
 * The provision log (quotas.md 5.9, decision): one row per accepted or
 * rejected provision, with the holding's counters after the step. It is
 * written only inside the commission statements of
 * QuotaCommissionsRepository (one statement per step), so it has no
 * repository class of its own; these are its columns and parameters.
 */
export interface LogEntry {
  serial?: string;
  clientKey: string;
  name: string;
  provision: { holder: string; source: string | null; resource: string; quantity: number };
  after: { limit: number; min: number; max: number };
  issueTime: Date;
  action: 'ACCEPT' | 'REJECT';
}

export const LOG_COLUMNS = 'client_key, name, holder, source, resource, quantity, "limit", usage_min, usage_max, action, issue_time';
const LOG_TYPES = ['text', 'text', 'text', 'text', 'text', 'bigint', 'bigint', 'bigint', 'bigint', 'text', 'timestamptz'];

/** The typed array parameters of logParams, numbered from `first`. */
export const logArrays = (first: number): string => LOG_TYPES.map((type, i) => `$${first + i}::${type}[]`).join(', ');

export function logParams(entries: LogEntry[]): unknown[] {
  return [
    entries.map((e) => e.clientKey),
    entries.map((e) => e.name),
    entries.map((e) => e.provision.holder),
    entries.map((e) => e.provision.source),
    entries.map((e) => e.provision.resource),
    entries.map((e) => e.provision.quantity),
    entries.map((e) => e.after.limit),
    entries.map((e) => e.after.min),
    entries.map((e) => e.after.max),
    entries.map((e) => e.action),
    entries.map((e) => new Date(e.issueTime).toISOString()),
  ];
}
