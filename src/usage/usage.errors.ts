/**
 * Error codes of the AMIE module. The status window (6) and the ids of a
 * clear (8) are DTOs of dto/: their 400s come from the global validation pipe.
 */
export enum UsageError {
  /** The message as a whole is unusable (amie-usage.md 4.2): nothing is stored. */
  InvalidMessage = 'usage.invalid_message',
}

export const USAGE_ERROR_STATUS: Record<UsageError, number> = {
  [UsageError.InvalidMessage]: 400,
};
