import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../config/app-config';
import { QUEUE_CONNECTION } from '../../../core/tokens';
import { QueueRuntime } from '../../../queue/queue-runtime';
import { eventObject } from './event-types';
import { EventsRepository } from './events.repository';

/** The BullMQ queue of events (reports.md 6.7): `<QUEUE_PREFIX>:events:…`, apart from the service's own jobs queue. */
export const EVENTS_QUEUE = 'events';
const CHANNEL = 'queue';
const BATCH = 500;

/**
 * The queue channel (reports.md 6.7), with REDIS_URL only: adds one job per
 * event, name the event type, data the event object, job id `event-<id>`.
 * Its outbox is the event table itself: a cursor (report_event_relay) moves
 * past the events handed over, in the transaction that holds it, so a crash
 * between an add and the cursor's commit adds the same job id again (BullMQ
 * keeps the existing job). Event ids commit in order, so the cursor never
 * passes an event committed later. The service only adds jobs; consumers
 * deduplicate by id.
 */
@Injectable()
export class EventQueueRelay implements OnModuleDestroy {
  private readonly queue?: Queue;

  constructor(
    private readonly db: DataSource,
    private readonly events: EventsRepository,
    config: AppConfig,
    @Inject(QUEUE_CONNECTION) runtime: QueueRuntime,
  ) {
    if (runtime.redis) this.queue = new Queue(EVENTS_QUEUE, { connection: runtime.redis, prefix: config.queuePrefix });
  }

  get enabled(): boolean {
    return this.queue !== undefined;
  }

  /** Hands the next events over; answers how many (0 without Redis, or while another process relays). */
  async relayOnce(): Promise<number> {
    const queue = this.queue;
    if (!queue) return 0;
    return this.db.transaction(async (m) => {
      const last = await this.events.lockRelay(m, CHANNEL);
      if (last === undefined) return 0;
      const rows = await this.events.feed({ after: last, limit: BATCH }, m);
      for (const row of rows) {
        const event = eventObject(row);
        await queue.add(event.type, event, { jobId: `event-${event.id}` });
      }
      if (rows.length) await this.events.saveRelay(m, CHANNEL, rows[rows.length - 1].id);
      return rows.length;
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue?.close();
  }
}
