import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { LOGGER } from '../core/tokens';
import { CollectorCounters } from './collector-counters';
import { CollectorRepository } from './collector.repository';
import { NotificationConsumer } from './notification-consumer';

/** The health check's file (docker-compose.yml): touched every 10 s while the broker channel is open and the database answers. */
export const COLLECTOR_HEARTBEAT_FILE = join(tmpdir(), 'usage-ledger-collector.heartbeat');

const HEARTBEAT_MS = 10_000;
const COUNT_FLUSH_MS = 5_000;
const PRUNE_MS = 3_600_000;
const RECEIPT_DAYS = 7;

/**
 * Runs the collector inside a process (collector.md 1.1, 6): the consumer,
 * the heartbeat, the count flushes and the pruning of receipts older than
 * 7 days. Stopped with the Nest application (SIGTERM in both processes).
 */
@Injectable()
export class CollectorRunner implements BeforeApplicationShutdown {
  private timers: NodeJS.Timeout[] = [];
  private running = false;
  private readonly log: Logger;

  constructor(
    private readonly consumer: NotificationConsumer,
    private readonly counters: CollectorCounters,
    private readonly repository: CollectorRepository,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'collector' });
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts consuming; resolves once the consumer is registered when `waitReady`. */
  async start(options: { waitReady?: boolean } = {}): Promise<void> {
    if (this.running) {
      if (options.waitReady) await this.consumer.ready();
      return;
    }
    this.running = true;
    this.consumer.start();
    this.timers.push(setInterval(() => void this.counters.flush(), COUNT_FLUSH_MS));
    this.timers.push(setInterval(() => void this.beat(), HEARTBEAT_MS));
    this.timers.push(setInterval(() => void this.prune(), PRUNE_MS));
    void this.prune();
    if (options.waitReady) await this.consumer.ready();
    void this.beat();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.consumer.stop();
    await this.counters.flush();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  private async beat(): Promise<void> {
    if (!this.consumer.connected) return;
    try {
      await this.repository.ping();
      const now = new Date();
      try {
        utimesSync(COLLECTOR_HEARTBEAT_FILE, now, now);
      } catch {
        writeFileSync(COLLECTOR_HEARTBEAT_FILE, '');
      }
    } catch (error) {
      this.log.warn({ err: { message: (error as Error).message } }, 'collector heartbeat: the database did not answer');
    }
  }

  private async prune(): Promise<void> {
    try {
      const removed = await this.repository.pruneReceipts(RECEIPT_DAYS);
      if (removed > 0) this.log.info({ removed }, 'collector: old receipts pruned');
    } catch (error) {
      this.log.warn({ err: { message: (error as Error).message } }, 'collector: receipts not pruned');
    }
  }
}

/**
 * In the API process: runs the collector when the database is embedded and
 * NOTIFICATIONS_URL is set (collector.md 1.1: only one process may open
 * PGlite). With DATABASE_URL set, the API never consumes notifications.
 */
@Injectable()
export class EmbeddedCollector {
  constructor(
    private readonly runner: CollectorRunner,
    private readonly config: AppConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.notificationsUrl || !this.config.embeddedDatabase) return;
    this.log.info('NOTIFICATIONS_URL is set and the database is embedded: this process runs the OpenStack notification collector');
    await this.runner.start();
  }
}
