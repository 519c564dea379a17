/** Error codes of the CSV export (reports.md 1.7). */
export enum ExportError {
  /** Every REPORT_MAX_EXPORTS slot is streaming. */
  Busy = 'reports.export_busy',
}

export const EXPORT_ERROR_STATUS: Record<ExportError, number> = {
  [ExportError.Busy]: 429,
};

/** Seconds a client waits before retrying a `429` of the export slots (reports.md 1.7). */
export const EXPORT_RETRY_AFTER_SECONDS = 5;
