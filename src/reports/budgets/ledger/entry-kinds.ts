/** Every entry kind of reports.md 6.2. */
export const ENTRY_KINDS = [
  'grant',
  'grant_adjustment',
  'amie_debit',
  'amie_credit',
  'amie_reversal',
  'accrual',
  'accrual_adjustment',
  'hold',
  'hold_release',
  'hold_expire',
  'hold_settle',
  'refund',
  'manual_grant',
  'manual_credit',
  'manual_debit',
] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

/** The figure of 6.3 each kind moves (6.2's third column). */
export const FIGURE_OF: Record<EntryKind, 'granted' | 'consumed' | 'held'> = {
  grant: 'granted',
  grant_adjustment: 'granted',
  manual_grant: 'granted',
  amie_debit: 'consumed',
  amie_credit: 'consumed',
  amie_reversal: 'consumed',
  accrual: 'consumed',
  accrual_adjustment: 'consumed',
  hold_settle: 'consumed',
  refund: 'consumed',
  manual_credit: 'consumed',
  manual_debit: 'consumed',
  hold: 'held',
  hold_release: 'held',
  hold_expire: 'held',
};
