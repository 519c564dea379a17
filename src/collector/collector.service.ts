import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { LOGGER } from '../core/tokens';
import { AlmanachWriter } from './almanach-writer';
import { CollectorCommand, orderingKey } from './collector.commands';
import { CollectorRepository } from './collector.repository';
import { HandledEventType, isHandledEventType, toCommand } from './notification-events';
import { MalformedNotification, NotificationMessage, PartialIdentity, readNotification } from './notification-message';
import { isTransientDatabaseError } from './transient';

/** Why a message was dead-lettered (collector.md 5.5, `x-ledger-reason`). */
export type DeadReason = 'malformed' | 'refused' | 'not_found' | 'failed';

/** What the broker side must do with one delivery (collector.md 5.1, 5.2). */
export type Decision =
  | { outcome: 'processed' | 'duplicate' | 'ignored' }
  | { outcome: 'deferred'; reason: 'not_found' | 'failed'; error: string }
  | { outcome: 'dead_lettered'; reason: DeadReason; error: string }
  | { outcome: 'transient'; error: string };

/** A delivery read as far as needed to order it: a final decision, or a command to apply. */
export type Prepared =
  | { identity: PartialIdentity; label: string; decision: Decision }
  | { identity: PartialIdentity; label: string; message: NotificationMessage; command: CollectorCommand; key: string };

/** Almanach's `min_retries` before a short-lived instance's delete is let go (collector.md 4.3). */
const MIN_DEFERRALS_BEFORE_FILTER = 3;

/**
 * The collector's decisions (collector.md 4 and 5): which outcome each
 * notification gets. No I/O of its own beyond the writer and the receipts.
 */
@Injectable()
export class CollectorService {
  private readonly log: Logger;

  constructor(
    private readonly config: AppConfig,
    private readonly writer: AlmanachWriter,
    private readonly receipts: CollectorRepository,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'collector' });
  }

  /** Reads the body and chooses the handler; malformed and unhandled messages get their decision here. */
  prepare(body: Buffer): Prepared {
    const identity: PartialIdentity = { messageId: '', eventType: '' };
    let message: NotificationMessage;
    try {
      message = readNotification(body, identity);
    } catch (error) {
      if (!(error instanceof MalformedNotification)) throw error;
      return { identity, label: labelOf(identity.eventType), decision: { outcome: 'dead_lettered', reason: 'malformed', error: error.message } };
    }
    if (!isHandledEventType(message.eventType)) {
      this.log.debug({ event_type: message.eventType, message_id: message.messageId }, 'notification of an unhandled type ignored');
      return { identity, label: 'other', decision: { outcome: 'ignored' } };
    }
    try {
      const command = toCommand(message as NotificationMessage & { eventType: HandledEventType }, {
        instanceMetadata: this.config.notificationsInstanceMetadata,
      });
      return { identity, label: message.eventType, message, command, key: orderingKey(command) };
    } catch (error) {
      if (!(error instanceof MalformedNotification)) throw error;
      return { identity, label: message.eventType, decision: { outcome: 'dead_lettered', reason: 'malformed', error: error.message } };
    }
  }

  /** Applies a prepared command; `deferrals` is how many times this message was deferred before. */
  async apply(prepared: Extract<Prepared, { command: CollectorCommand }>, deferrals: number): Promise<Decision> {
    const { message, command } = prepared;
    const maxRetries = this.config.notificationsMaxRetries;
    try {
      if (await this.receipts.hasReceipt(message.messageId)) return { outcome: 'duplicate' };
      const result = await this.writer.apply(command, { messageId: message.messageId, eventType: message.eventType });
      switch (result.result) {
        case 'processed':
        case 'duplicate':
        case 'ignored':
          return { outcome: result.result };
        case 'refused':
          return { outcome: 'dead_lettered', reason: 'refused', error: result.error };
        case 'malformed':
          return { outcome: 'dead_lettered', reason: 'malformed', error: result.error };
        case 'not_found':
          if (command.kind === 'instance.delete') {
            if (command.filter.neverBuilt) return { outcome: 'ignored' };
            if (deferrals >= MIN_DEFERRALS_BEFORE_FILTER && command.filter.shortLived) return { outcome: 'ignored' };
          }
          return deferrals < maxRetries
            ? { outcome: 'deferred', reason: 'not_found', error: result.error }
            : { outcome: 'dead_lettered', reason: 'not_found', error: result.error };
      }
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      if (isTransientDatabaseError(error)) return { outcome: 'transient', error: text };
      this.log.error({ err: error, message_id: message.messageId, event_type: message.eventType }, 'unexpected error applying a notification');
      return deferrals < maxRetries ? { outcome: 'deferred', reason: 'failed', error: text } : { outcome: 'dead_lettered', reason: 'failed', error: text };
    }
  }
}

/** The counter's `event_type` label (collector.md 6). */
export function labelOf(eventType: string): string {
  if (!eventType) return 'unreadable';
  return isHandledEventType(eventType) ? eventType : 'other';
}
