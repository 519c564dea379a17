/** Error codes of the periods routes (reports.md 5.2). */
export enum PeriodsError {
  /** The period has not ended yet, or is already closing or closed. */
  NotClosable = 'periods.not_closable',
}

export const PERIODS_ERROR_STATUS: Record<PeriodsError, number> = {
  [PeriodsError.NotClosable]: 409,
};
