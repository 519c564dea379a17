/** The event types of reports.md 6.7. */
export const EVENT_TYPES = ['budget.threshold_crossed', 'budget.threshold_rearmed', 'period.closed', 'job.finished'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** An event as every channel carries it (reports.md 6.7): `id` a decimal string, dates UTC with milliseconds. */
export interface EventObject {
  id: string;
  type: string;
  created_at: string;
  project_id: string | null;
  data: Record<string, unknown>;
}

/**
 * The order of `data`'s fields as 6.7 lists them: PostgreSQL's jsonb keeps
 * keys sorted by length, so the wire object is rebuilt in the contract's
 * order (unknown keys follow, as stored).
 */
const DATA_ORDER: Record<string, string[]> = {
  'budget.threshold_crossed': ['allocation_id', 'threshold', 'arming', 'ratio', 'granted', 'consumed', 'unit', 'period'],
  'budget.threshold_rearmed': ['allocation_id', 'threshold', 'arming', 'ratio', 'granted', 'consumed', 'unit', 'period'],
  'period.closed': ['period', 'job_id', 'closed_by'],
  'job.finished': ['job_id', 'kind', 'state'],
};

/** The event object of a stored row, fields in the contract's order. */
export function eventObject(row: EventObject): EventObject {
  return { id: row.id, type: row.type, created_at: row.created_at, project_id: row.project_id, data: ordered(row.type, row.data) };
}

function ordered(type: string, data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of DATA_ORDER[type] ?? []) if (key in data) out[key] = data[key];
  for (const [key, value] of Object.entries(data)) if (!(key in out)) out[key] = value;
  const period = out.period;
  if (period && typeof period === 'object' && 'start' in period && 'end' in period) {
    const { start, end } = period as { start: unknown; end: unknown };
    out.period = { start, end };
  }
  return out;
}
