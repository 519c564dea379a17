import { createHmac } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../config/app-config';
import { LOGGER } from '../../../core/tokens';
import { Sql } from '../../../database/query-result';
import { EventDeliverySettings } from './event-delivery.settings';
import { eventObject } from './event-types';
import { ClaimedDelivery, WebhooksRepository } from './webhooks.repository';

/** `X-Ledger-Signature` of a body sent at `timestamp` (reports.md 6.7): HMAC-SHA256 of "<timestamp>.<body>", hex. */
export function signature(secret: string, timestamp: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

/**
 * Webhook delivery from the outbox (reports.md 6.7), wherever the queue is
 * consumed. Each attempt claims one due delivery row with `FOR UPDATE SKIP
 * LOCKED` and keeps that transaction open while it POSTs (at most the 10 s
 * timeout): with several workers no event goes to one webhook twice at
 * once, and a worker killed mid-attempt loses its connection, so the row
 * is free again at once for the next worker. On embedded PostgreSQL (one
 * connection, one process) no transaction is held across the request:
 * attempts run one at a time in this process instead, whoever calls.
 *
 * Any non-2xx answer (redirects included), timeout or connection failure is
 * retried after 10 s, then at doubling intervals of at most 1 h, until 72 h
 * after the event; the delivery is then given up and its error shows in the
 * webhook's `last_error`. Secrets and URLs are never logged.
 */
@Injectable()
export class WebhookDeliverer {
  private readonly log: Logger;
  /** Embedded PostgreSQL: the one attempt running in this process (the next waits for it). */
  private serial: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: DataSource,
    private readonly webhooks: WebhooksRepository,
    private readonly settings: EventDeliverySettings,
    private readonly config: AppConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'webhooks' });
  }

  /** Attempts every due delivery; answers how many attempts were made. */
  async deliverDue(stopped: () => boolean = () => false): Promise<number> {
    const slots = this.config.embeddedDatabase ? 1 : Math.max(1, this.settings.concurrency);
    let attempts = 0;
    const slot = async () => {
      while (!stopped() && (await this.attemptOne())) attempts++;
    };
    await Promise.all(Array.from({ length: slots }, slot));
    return attempts;
  }

  /** Claims and attempts one due delivery; false when none is due. */
  private attemptOne(): Promise<boolean> {
    const run = async (sql: Sql) => {
      const claimed = await this.webhooks.claimDue(sql);
      if (!claimed) return false;
      const error = await this.post(claimed);
      if (error === null) {
        await this.webhooks.delivered(claimed.webhookId, claimed.event.id, sql);
        return true;
      }
      const attempt = claimed.attempts + 1;
      const retryAt = Date.now() + Math.min(this.settings.retryBaseMs * 2 ** (attempt - 1), this.settings.retryMaxMs);
      const givenUp = retryAt > claimed.eventCreatedMs + this.settings.giveUpAfterMs;
      const shown = givenUp ? `event ${claimed.event.id} given up after ${attempt} attempts: ${error}` : `event ${claimed.event.id}: ${error}`;
      await this.webhooks.failed(claimed.webhookId, claimed.event.id, error, givenUp ? null : new Date(retryAt), shown, sql);
      this.log.warn({ webhook: claimed.webhookId, event: claimed.event.id, attempt, givenUp, err: { message: error } }, 'webhook delivery failed');
      return true;
    };
    if (!this.config.embeddedDatabase) return this.db.transaction((m) => run(m));
    const attempt = this.serial.then(() => run(this.db));
    this.serial = attempt.catch(() => undefined);
    return attempt;
  }

  /** POSTs the event once; answers null on a 2xx, else what went wrong. */
  private async post(claimed: ClaimedDelivery): Promise<string | null> {
    const body = Buffer.from(JSON.stringify(eventObject(claimed.event)), 'utf8');
    const timestamp = String(Math.floor(Date.now() / 1000));
    try {
      const res = await fetch(claimed.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.settings.timeoutMs),
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'usage-ledger-webhooks',
          'X-Ledger-Event-Id': claimed.event.id,
          'X-Ledger-Event-Type': claimed.event.type,
          'X-Ledger-Timestamp': timestamp,
          'X-Ledger-Signature': signature(claimed.secret, timestamp, body),
        },
        body,
      });
      await res.body?.cancel().catch(() => undefined);
      return res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}`;
    } catch (error) {
      const e = error as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${this.settings.timeoutMs / 1000} s`;
      return `connection failed: ${e.cause?.code ?? e.cause?.message ?? e.message}`;
    }
  }
}
