/** Error codes of the hold routes (reports.md 6.4). */
export enum HoldsError {
  /** The project has no budget whose period contains now (create). */
  NoCurrentBudget = 'holds.no_current_budget',
  /** No such hold in this project (another project's hold is not found either). */
  NotFound = 'holds.not_found',
  /** `available + overdraft < amount`; the body carries `available` and `requested`. */
  InsufficientBudget = 'holds.insufficient_budget',
  /** The reference names a hold of this project made with another body. */
  ReferenceReused = 'holds.reference_reused',
  /** Settle, release or refund of a hold not in the state it needs. */
  WrongState = 'holds.wrong_state',
  /** A refund larger than what is settled and not yet refunded. */
  RefundTooLarge = 'holds.refund_too_large',
  /** `amie_record` names a record already loaded, or one another held hold names. */
  AmieRecordTaken = 'holds.amie_record_taken',
}

export const HOLDS_ERROR_STATUS: Record<HoldsError, number> = {
  [HoldsError.NoCurrentBudget]: 404,
  [HoldsError.NotFound]: 404,
  [HoldsError.InsufficientBudget]: 409,
  [HoldsError.ReferenceReused]: 409,
  [HoldsError.WrongState]: 409,
  [HoldsError.RefundTooLarge]: 409,
  [HoldsError.AmieRecordTaken]: 409,
};
