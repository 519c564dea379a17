export enum UsageError {
  /** The message as a whole is unusable (amie-usage.md 4.2): nothing is stored. */
  InvalidMessage = 'usage.invalid_message',
  /** FromTime/ToTime of status (6). */
  InvalidTimeRange = 'usage.invalid_time_range',
  /** An element of DELETE usage/failed/{ids} that is not a positive integer (8). */
  InvalidFailedRecordIds = 'usage.invalid_failed_record_ids',
}

export const USAGE_ERROR_STATUS: Record<UsageError, number> = {
  [UsageError.InvalidMessage]: 400,
  [UsageError.InvalidTimeRange]: 400,
  [UsageError.InvalidFailedRecordIds]: 400,
};
