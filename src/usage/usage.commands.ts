import { StoredRecord } from './usage-stored-record';
import { UsageType } from './usage-validation';

/**
 * What the services of this module receive: typed commands built at the edge
 * (the message pipe, the DTOs of dto/), never raw request input.
 */

/** A record that failed the synchronous checks of amie-usage.md 4.6. */
export interface RecordFailure {
  /** index in the message's Records (the receipt sequence is base * 2^20 + index) */
  index: number;
  /** `<Field>: <rule>` problems joined by "; " (5.5) */
  error: string;
  /** the failed-record entry without UsageType, Error and FailedRecordID (4.9) */
  echo: Record<string, unknown>;
  /** the identity, when Resource and LocalRecordID are usable (5.3); null otherwise */
  resource: string | null;
  localRecordId: string | null;
}

/** POST usage/ after the envelope and every record were checked (4.2-4.9). */
export interface SubmitUsageCommand {
  usageType: UsageType;
  /** ReceivedRecordCount: accepted + failed */
  received: number;
  /**
   * records to queue, in message order, already in the form the batch
   * stores (usage-stored-record.ts): with `d` only when `text` is null, so
   * that nothing holds the parsed body once the command is built (issue 14:
   * the parsed records then die young instead of being copied by every
   * scavenge while the batch is written)
   */
  accepted: StoredRecord[];
  /** records that failed validation, in message order */
  failed: RecordFailure[];
  /**
   * The message's JSON text when PostgreSQL reads it exactly as JavaScript
   * did (no `\u` escape, no number beyond numeric's range): the stored batch
   * then keeps it and reads each record's JSON from it, instead of a second
   * copy of every record (UsageBatchRepository); null otherwise. Its bytes
   * as received, less a leading BOM (the driver sends them as they are).
   */
  text: string | Buffer | null;
}

/** GET usage/status: `[from, to)` in microseconds since the epoch; null is an open bound (5.4, 6). */
export interface StatusRange {
  from: bigint | null;
  to: bigint | null;
}

/** DELETE usage/failed/{ids} (8): every outstanding failure of the site, or these ids (possibly none). */
export type ClearFailedCommand = { all: true } | { all: false; ids: string[] };
