import { Injectable } from '@nestjs/common';

/**
 * The timings of event delivery (reports.md 6.6, 6.7). The defaults are the
 * contract's; they are not configuration. A test shortens them on the
 * instance it got from the app (`app.get(EventDeliverySettings).retryBaseMs
 * = 100`), as periods' close handler lets a test shorten its wait.
 */
@Injectable()
export class EventDeliverySettings {
  /** First webhook retry after a failed attempt (6.7: 10 s), then doubling. */
  retryBaseMs = 10_000;
  /** Longest interval between two attempts (6.7: 1 h). */
  retryMaxMs = 3_600_000;
  /** Retries stop this long after the event was created (6.7: 72 h); the delivery is then given up. */
  giveUpAfterMs = 72 * 3_600_000;
  /** An attempt without an answer by then failed (6.7: 10 s). */
  timeoutMs = 10_000;
  /** How often the delivery and queue loops look for work. */
  pollMs = 1_000;
  /** Deliveries at once per process (each holds a database connection while it waits for its receiver). */
  concurrency = 4;
  /** The live threshold evaluator's period (6.6: 30 s). */
  evaluateEveryMs = 30_000;
  /** How often events older than EVENT_RETENTION_DAYS are pruned. */
  pruneEveryMs = 3_600_000;
}
