import { Inject, Injectable } from '@nestjs/common';
import { ChannelModel, ConfirmChannel, connect, ConsumeMessage, Options } from 'amqplib';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { LOGGER } from '../core/tokens';
import { BrokerTarget, describeTarget, parseBrokerUrl } from './broker-url';
import { CollectorCounters } from './collector-counters';
import { CollectorService, Decision, Prepared } from './collector.service';

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const TRANSIENT_LOG_EVERY_MS = 10_000;
const ERROR_HEADER_MAX = 1000;

/** Headers the broker or an earlier deferral added; not part of the original message. */
const DROPPED_HEADERS = ['x-ledger-retry', 'x-death', 'x-first-death-exchange', 'x-first-death-queue', 'x-first-death-reason', 'x-last-death-exchange', 'x-last-death-queue', 'x-last-death-reason'];

/**
 * The broker side of the collector (collector.md 2 and 5): the topology, one
 * confirm channel that consumes `<queue>` and publishes deferrals and dead
 * letters, per-entity ordering, and the ack after the outcome is safe. It
 * reconnects after any loss (1 s doubling to 30 s, without limit); what was
 * not acked is redelivered by the broker.
 */
@Injectable()
export class NotificationConsumer {
  private readonly log: Logger;
  private readonly targets: BrokerTarget[];
  private connection?: ChannelModel;
  private channel?: ConfirmChannel;
  private consumerTag?: string;
  private readonly closedChannels = new WeakSet<ConfirmChannel>();
  private stopping = false;
  private loop?: Promise<void>;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly wakers = new Set<() => void>();
  private lastTransientLog = 0;
  private readyWaiters: Array<() => void> = [];
  /** Time of the last processed notification (freshness). */
  lastProcessedAt: Date | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly service: CollectorService,
    private readonly counters: CollectorCounters,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'collector' });
    this.targets = config.notificationsUrl ? parseBrokerUrl(config.notificationsUrl) : [];
  }

  private get queue(): string {
    return this.config.notificationsQueue;
  }

  /** Starts connecting and consuming in the background; `ready()` resolves once consuming. */
  start(): void {
    if (this.loop) return;
    if (this.targets.length === 0) throw new Error('NOTIFICATIONS_URL is not set');
    this.stopping = false;
    this.loop = this.run();
  }

  /** Resolves when the consumer is registered on the broker. */
  ready(): Promise<void> {
    if (this.consumerTag && this.channel && !this.closedChannels.has(this.channel)) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** The channel is open (heartbeat). */
  get connected(): boolean {
    return this.channel !== undefined && !this.closedChannels.has(this.channel);
  }

  /**
   * Cancels the consumer, lets the messages in hand finish (at most 10 s;
   * the rest stays unacked and is redelivered), then closes the connection.
   */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    for (const wake of this.wakers) wake();
    const channel = this.channel;
    if (channel && this.consumerTag && !this.closedChannels.has(channel)) await channel.cancel(this.consumerTag).catch(() => undefined);
    await Promise.race([Promise.allSettled([...this.inFlight]), sleep(STOP_GRACE_MS)]);
    await this.connection?.close().catch(() => undefined);
    await this.loop;
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    let backoff = FIRST_BACKOFF_MS;
    while (!this.stopping) {
      try {
        const closed = await this.connectOnce();
        backoff = FIRST_BACKOFF_MS;
        await closed;
        if (!this.stopping) this.log.warn('collector: broker connection lost; reconnecting');
      } catch (error) {
        if (this.stopping) break;
        this.log.warn({ err: { message: (error as Error).message }, retry_in_ms: backoff }, 'collector: cannot reach the broker; retrying');
        await this.wait(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** Connects, declares the topology and consumes; answers a promise settled when the connection closes. */
  private async connectOnce(): Promise<Promise<void>> {
    let connection: ChannelModel | undefined;
    let lastError: unknown;
    for (const target of this.targets) {
      try {
        connection = await connect(target);
        this.log.info({ broker: describeTarget(target) }, 'collector: connected to the broker');
        break;
      } catch (error) {
        lastError = new Error(`${describeTarget(target)}: ${(error as Error).message}`);
      }
    }
    if (!connection) throw lastError ?? new Error('no broker address');
    const closed = new Promise<void>((resolve) => connection!.once('close', () => resolve()));
    connection.on('error', (error: Error) => this.log.warn({ err: { message: error.message } }, 'collector: broker connection error'));
    try {
      const channel = await connection.createConfirmChannel();
      channel.on('error', (error: Error) => this.log.warn({ err: { message: error.message } }, 'collector: channel error'));
      channel.once('close', () => {
        this.closedChannels.add(channel);
        // A lost channel ends this connection too; the loop reconnects.
        void connection!.close().catch(() => undefined);
      });
      await this.declareTopology(connection, channel);
      await channel.prefetch(this.config.notificationsPrefetch);
      this.connection = connection;
      this.channel = channel;
      const { consumerTag } = await channel.consume(this.queue, (message) => this.onDelivery(channel, message), { noAck: false });
      this.consumerTag = consumerTag;
      this.log.info(
        { exchanges: this.config.notificationsExchanges, queue: this.queue, prefetch: this.config.notificationsPrefetch },
        `collector ready: exchanges ${this.config.notificationsExchanges.join(', ')} → queue ${this.queue} (prefetch ${this.config.notificationsPrefetch})`,
      );
      for (const resolve of this.readyWaiters.splice(0)) resolve();
      if (this.stopping) await connection.close().catch(() => undefined);
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
    return closed;
  }

  /** collector.md 2: exchanges as oslo declares them, the queue, its delay line and its dead letters. */
  private async declareTopology(connection: ChannelModel, channel: ConfirmChannel): Promise<void> {
    const routingKey = `${this.config.notificationsTopic}.info`;
    for (const exchange of this.config.notificationsExchanges) {
      // A passive check failing closes its channel, so it gets a channel of its own.
      const probe = await connection.createChannel();
      probe.on('error', () => undefined);
      let exists = true;
      try {
        await probe.checkExchange(exchange);
      } catch {
        exists = false;
      }
      if (exists) await probe.close().catch(() => undefined);
      else await channel.assertExchange(exchange, 'topic', { durable: this.config.notificationsDurableExchanges, autoDelete: false });
    }
    await channel.assertQueue(this.queue, { durable: true, exclusive: false, autoDelete: false });
    for (const exchange of this.config.notificationsExchanges) await channel.bindQueue(this.queue, exchange, routingKey);
    await channel.assertQueue(`${this.queue}.retry`, {
      durable: true,
      exclusive: false,
      autoDelete: false,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': this.queue },
    });
    await channel.assertQueue(`${this.queue}.dead`, { durable: true, exclusive: false, autoDelete: false });
  }

  private onDelivery(channel: ConfirmChannel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (queue deleted): reconnect, which declares it again.
      this.log.warn('collector: the broker cancelled the consumer; reconnecting');
      void this.connection?.close().catch(() => undefined);
      return;
    }
    const task = this.handle(channel, message).catch((error: unknown) => {
      this.log.error({ err: error }, 'collector: a delivery failed unexpectedly; it stays unacked');
    });
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  private async handle(channel: ConfirmChannel, message: ConsumeMessage): Promise<void> {
    const deferrals = headerInt(message.properties.headers?.['x-ledger-retry']);
    let prepared: Prepared;
    try {
      prepared = this.service.prepare(message.content);
    } catch (error) {
      const decision: Decision = { outcome: 'deferred', reason: 'failed', error: (error as Error).message };
      return this.finish(channel, message, { identity: { messageId: '', eventType: '' }, label: 'unreadable', decision }, decision, deferrals);
    }
    if ('decision' in prepared) return this.finish(channel, message, prepared, prepared.decision, deferrals);
    const key = prepared.key;
    const previous = this.chains.get(key) ?? Promise.resolve();
    const run = previous.then(() => this.applyAndFinish(channel, message, prepared as Extract<Prepared, { command: unknown }>, deferrals));
    const settled = run.catch(() => undefined);
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    });
    return run;
  }

  /** Applies, retrying in place while the database is unavailable (collector.md 5.2, transient). */
  private async applyAndFinish(
    channel: ConfirmChannel,
    message: ConsumeMessage,
    prepared: Extract<Prepared, { command: unknown }>,
    deferrals: number,
  ): Promise<void> {
    let backoff = FIRST_BACKOFF_MS;
    for (;;) {
      if (this.stopping || this.closedChannels.has(channel)) return; // unacked: redelivered
      const decision = await this.service.apply(prepared, deferrals);
      if (decision.outcome !== 'transient') return this.finish(channel, message, prepared, decision, deferrals);
      this.counters.add(prepared.label, 'retried');
      if (Date.now() - this.lastTransientLog >= TRANSIENT_LOG_EVERY_MS) {
        this.lastTransientLog = Date.now();
        this.log.warn({ err: { message: decision.error }, retry_in_ms: backoff }, 'collector: database unavailable; retrying in place');
      }
      await this.wait(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  private async finish(channel: ConfirmChannel, message: ConsumeMessage, prepared: Prepared, decision: Decision, deferrals: number): Promise<void> {
    const { identity, label } = prepared;
    this.log.debug({ message_id: identity.messageId, event_type: identity.eventType, outcome: decision.outcome }, 'collector: notification handled');
    switch (decision.outcome) {
      case 'processed':
      case 'duplicate':
      case 'ignored':
        if (this.ack(channel, message)) {
          this.counters.add(label, decision.outcome);
          if (decision.outcome === 'processed') this.lastProcessedAt = new Date();
        }
        return;
      case 'deferred': {
        const headers = {
          ...(message.properties.headers ?? {}),
          'x-ledger-retry': deferrals + 1,
          'x-ledger-exchange': headerString(message.properties.headers?.['x-ledger-exchange']) ?? message.fields.exchange,
          'x-ledger-routing-key': headerString(message.properties.headers?.['x-ledger-routing-key']) ?? message.fields.routingKey,
        };
        for (const name of DROPPED_HEADERS.slice(1)) delete (headers as Record<string, unknown>)[name];
        await this.publish(channel, `${this.queue}.retry`, message, headers, String(this.config.notificationsRetryDelayS * 1000));
        if (this.ack(channel, message)) {
          this.counters.add(label, 'retried');
          this.log.info(
            { message_id: identity.messageId, event_type: identity.eventType, reason: decision.reason, error: decision.error, deferral: deferrals + 1 },
            'collector: notification deferred',
          );
        }
        return;
      }
      case 'dead_lettered': {
        const original = message.properties.headers ?? {};
        const headers: Record<string, unknown> = { ...original };
        for (const name of DROPPED_HEADERS) delete headers[name];
        Object.assign(headers, {
          'x-ledger-reason': decision.reason,
          'x-ledger-error': decision.error.slice(0, ERROR_HEADER_MAX),
          'x-ledger-event-type': identity.eventType,
          'x-ledger-message-id': identity.messageId,
          'x-ledger-attempts': deferrals + 1,
          'x-ledger-exchange': headerString(original['x-ledger-exchange']) ?? message.fields.exchange,
          'x-ledger-routing-key': headerString(original['x-ledger-routing-key']) ?? message.fields.routingKey,
          'x-ledger-failed-at': new Date().toISOString(),
        });
        await this.publish(channel, `${this.queue}.dead`, message, headers);
        if (this.ack(channel, message)) {
          this.counters.add(label, 'dead_lettered');
          this.log.warn(
            { message_id: identity.messageId, event_type: identity.eventType, reason: decision.reason, error: decision.error },
            'collector: notification dead-lettered',
          );
        }
        return;
      }
      case 'transient':
        return; // not reached: applyAndFinish retries these
    }
  }

  /** Publishes a copy through the default exchange, persistent, and waits for the broker's confirm. */
  private publish(channel: ConfirmChannel, queue: string, message: ConsumeMessage, headers: Record<string, unknown>, expiration?: string): Promise<void> {
    const p = message.properties;
    const options: Options.Publish = {
      persistent: true,
      headers,
      contentType: p.contentType,
      contentEncoding: p.contentEncoding,
      messageId: p.messageId,
      correlationId: p.correlationId,
      timestamp: p.timestamp,
      type: p.type,
      appId: p.appId,
    };
    if (expiration) options.expiration = expiration;
    return new Promise((resolve, reject) => {
      try {
        channel.sendToQueue(queue, message.content, options, (error: unknown) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve()));
      } catch (error) {
        reject(error as Error);
      }
    });
  }

  /** Acks on the channel the message came on; after that channel closed, the broker redelivers it instead. */
  private ack(channel: ConfirmChannel, message: ConsumeMessage): boolean {
    if (this.closedChannels.has(channel)) return false;
    try {
      channel.ack(message);
      return true;
    } catch {
      return false;
    }
  }

  /** Sleeps, or less when stopping. */
  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }
}

function headerInt(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : 0;
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

function headerString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
