import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Logger } from 'pino';
import { AppConfig } from '../../../config/app-config';
import { LOGGER } from '../../../core/tokens';
import { JobQueueService } from '../../../queue/job-queue.service';
import { EventDeliverySettings } from './event-delivery.settings';
import { EventQueueRelay } from './event-queue.relay';
import { EventsRepository } from './events.repository';
import { ThresholdEvaluator } from './threshold-evaluator.service';
import { WebhookDeliverer } from './webhook-deliverer.service';

/**
 * The event loops that run wherever the queue is consumed (every worker;
 * the API when REDIS_URL is unset): webhook delivery and the queue relay
 * (every second), the live threshold evaluator (every 30 s) and retention
 * (hourly). Each loop runs one pass at a time; a failed pass is logged and
 * the next one tries again.
 */
@Injectable()
export class EventsLoops implements OnModuleInit, OnModuleDestroy {
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly log: Logger;

  constructor(
    private readonly jobs: JobQueueService,
    private readonly deliverer: WebhookDeliverer,
    private readonly relay: EventQueueRelay,
    private readonly evaluator: ThresholdEvaluator,
    private readonly events: EventsRepository,
    private readonly settings: EventDeliverySettings,
    private readonly config: AppConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'events' });
  }

  onModuleInit(): void {
    this.jobs.whenConsuming(() => this.start());
  }

  private start(): void {
    this.every('webhook delivery', () => this.settings.pollMs, () => this.deliverer.deliverDue(() => this.stopped));
    if (this.relay.enabled) this.every('events queue relay', () => this.settings.pollMs, () => this.relay.relayOnce());
    this.every('threshold evaluation', () => this.settings.evaluateEveryMs, () => this.evaluator.evaluateAll());
    this.every('event retention', () => this.settings.pruneEveryMs, () => this.events.prune(this.config.eventRetentionDays));
  }

  /** Runs `pass` now and then `everyMs` after each pass ends. */
  private every(what: string, everyMs: () => number, pass: () => Promise<unknown>): void {
    const run = async () => {
      if (this.stopped) return;
      const running = pass().catch((error: unknown) => this.log.warn({ err: { message: (error as Error).message } }, `${what} failed; retrying`));
      this.running.add(running);
      await running;
      this.running.delete(running);
      if (this.stopped) return;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void run();
      }, everyMs());
      this.timers.add(timer);
    };
    void run();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /** Stops every loop, waiting for running passes. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }
}
