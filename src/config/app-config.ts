import { resolve } from 'node:path';
import { ConfigError, EnvSchema, LogLevel, validateEnv } from './env.schema';

/** Typed, validated configuration; the only reader of process.env. */
export class AppConfig {
  private constructor(private readonly env: EnvSchema) {}

  static fromEnv(env: Record<string, string | undefined> = process.env): AppConfig {
    return new AppConfig(validateEnv(env));
  }

  /** Same validation over explicit values (tests, bench). */
  static fromValues(values: Record<string, string | undefined>): AppConfig {
    return new AppConfig(validateEnv(values));
  }

  get databaseUrl(): string | undefined {
    return this.env.DATABASE_URL;
  }
  /** Connections per process to a PostgreSQL server (embedded PostgreSQL has one). */
  get databasePoolSize(): number {
    return this.env.DATABASE_POOL_SIZE;
  }
  get redisUrl(): string | undefined {
    return this.env.REDIS_URL;
  }
  get port(): number {
    return this.env.PORT;
  }
  get host(): string {
    return this.env.HOST;
  }
  get adminToken(): string | undefined {
    return this.env.ADMIN_TOKEN;
  }
  /** Absolute data folder, or `memory://`. */
  get dataDir(): string {
    return this.env.DATA_DIR === 'memory://' ? 'memory://' : resolve(this.env.DATA_DIR);
  }
  get logLevel(): LogLevel {
    return this.env.LOG_LEVEL;
  }
  get publicUrl(): string | undefined {
    return this.env.PUBLIC_URL?.replace(/\/+$/, '');
  }
  get queuePrefix(): string {
    return this.env.QUEUE_PREFIX;
  }
  get queueRetryDelayMs(): number {
    return this.env.QUEUE_RETRY_DELAY_MS;
  }
  get trustProxy(): boolean {
    return this.env.TRUST_PROXY;
  }
  /** The collector's broker URL (may hold a password: log it only through redactBrokerUrl). */
  get notificationsUrl(): string | undefined {
    return this.env.NOTIFICATIONS_URL;
  }
  get notificationsExchanges(): string[] {
    return [...new Set(this.env.NOTIFICATIONS_EXCHANGES.split(',').map((e) => e.trim()).filter(Boolean))];
  }
  get notificationsTopic(): string {
    return this.env.NOTIFICATIONS_TOPIC;
  }
  get notificationsQueue(): string {
    return this.env.NOTIFICATIONS_QUEUE;
  }
  get notificationsPrefetch(): number {
    return this.env.NOTIFICATIONS_PREFETCH;
  }
  get notificationsDurableExchanges(): boolean {
    return this.env.NOTIFICATIONS_DURABLE_EXCHANGES;
  }
  get notificationsRetryDelayS(): number {
    return this.env.NOTIFICATIONS_RETRY_DELAY_S;
  }
  get notificationsMaxRetries(): number {
    return this.env.NOTIFICATIONS_MAX_RETRIES;
  }
  /** Instance metadata keys to keep; ['*'] keeps every key, [] none. */
  get notificationsInstanceMetadata(): string[] {
    return [...new Set(this.env.NOTIFICATIONS_INSTANCE_METADATA.split(',').map((k) => k.trim()).filter(Boolean))];
  }
  get reportTimeZone(): string {
    return this.env.REPORT_TIME_ZONE;
  }
  get reportCurrency(): string | undefined {
    return this.env.REPORT_CURRENCY;
  }
  get cloudSite(): string {
    return this.env.CLOUD_SITE;
  }
  /** CSV exports streaming at once in this process (reports.md 1.7). */
  get reportMaxExports(): number {
    return this.env.REPORT_MAX_EXPORTS;
  }
  /** Late-data horizon in days; 0 when there is none (reports.md §5.4). */
  get lateHorizonDays(): number {
    return this.env.LATE_HORIZON_DAYS;
  }
  /** Project-days of the nightly sampled consistency check; 0 when it is off (reports.md 7.5). */
  get checkSamplePerNight(): number {
    return this.env.CHECK_SAMPLE_PER_NIGHT;
  }
  /** Dirty keys a worker drains between two VACUUMs of report_dirty_key; 0 never (RollupDrainer.tick). */
  get rollupVacuumAfterKeys(): number {
    return this.env.ROLLUP_VACUUM_AFTER_KEYS;
  }
  /** Days after a month ends before it closes itself; 0 when periods close only through the route (reports.md 5.2). */
  get periodAutoCloseDays(): number {
    return this.env.PERIOD_AUTO_CLOSE_DAYS;
  }
  /** Default budget thresholds, ascending percent of granted (reports.md 6.6); validated as distinct by the schema check. */
  get budgetThresholds(): number[] {
    return this.env.BUDGET_THRESHOLDS.split(',').map((x) => Number(x.trim())).sort((a, b) => a - b);
  }
  /** Hours a hold lives when its `expires_at` is not given (reports.md 6.4). */
  get holdTtlHours(): number {
    return this.env.HOLD_TTL_HOURS;
  }
  /** Days an event stays in the feed (reports.md 6.7). */
  get eventRetentionDays(): number {
    return this.env.EVENT_RETENTION_DAYS;
  }
  /** Silence threshold in seconds per freshness source (reports.md §9.1, SOURCE_SILENCE_SECONDS). */
  get sourceSilenceSeconds(): Record<'almanach' | 'amie' | 'notifications', number> {
    const raw = this.env.SOURCE_SILENCE_SECONDS.trim();
    if (/^\d+$/.test(raw)) {
      const all = Number(raw);
      return { almanach: all, amie: all, notifications: all };
    }
    const thresholds = { almanach: 3600, amie: 3600, notifications: 3600 };
    for (const part of raw.split(',')) {
      const [source, seconds] = part.split('=').map((x) => x.trim());
      thresholds[source as keyof typeof thresholds] = Number(seconds);
    }
    return thresholds;
  }
  /**
   * An API process's own rule (main.ts): on a PostgreSQL server each CSV
   * export holds a connection of the pool while it streams, so all of them
   * at once must leave one for every other request. Workers and the
   * collector stream no exports; embedded PostgreSQL has one connection,
   * on which exports wait their turn (reports.md 7.6).
   */
  assertExportsFitPool(): void {
    if (this.embeddedDatabase || this.databasePoolSize > this.reportMaxExports) return;
    throw new ConfigError(
      `invalid configuration:\n  DATABASE_POOL_SIZE (${this.databasePoolSize}) must be greater than REPORT_MAX_EXPORTS (${this.reportMaxExports}) in an API process: each CSV export holds a connection while it streams`,
    );
  }
  get embeddedDatabase(): boolean {
    return this.databaseUrl === undefined;
  }
  get inProcessQueue(): boolean {
    return this.redisUrl === undefined;
  }
}
