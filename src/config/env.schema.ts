import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `scheme://[user[:pass]@]host[:port][,…]/vhost`: one or more hosts (oslo transport_url), credentials percent-encoded. */
const BROKER_HOST = String.raw`([^\s/?#,@]*@)?(\[[0-9A-Fa-f:.]+\]|[^\s/?#,@:\[\]]+)(:\d{1,5})?`;
const BROKER_URL = new RegExp(String.raw`^(amqps?|rabbit):\/\/${BROKER_HOST}(,${BROKER_HOST})*(\/[^\s?#]*)?(\?\S*)?$`);

/** Each numeric variable has one message for all its rules: a bad value is reported once, not once per rule. */
const PORT_RULE = 'PORT must be a whole number between 1 and 65535';

const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/**
 * Every environment variable the service reads, with its default. Nothing
 * outside src/config reads process.env; everything else asks AppConfig.
 */
export class EnvSchema {
  /** PostgreSQL URL; unset means embedded PostgreSQL (PGlite) under DATA_DIR. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// or postgresql:// URL' })
  DATABASE_URL?: string;

  /** Redis URL for BullMQ; unset means the in-process queue. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  @Transform(({ value }) => (value === undefined || value === '' ? 3000 : Number(value)))
  @IsInt({ message: PORT_RULE })
  @Min(1, { message: PORT_RULE })
  @Max(65535, { message: PORT_RULE })
  PORT = 3000;

  /** Address to listen on. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  HOST = '0.0.0.0';

  /** Bootstrap credential with role admin (auth.md "Bootstrap"). */
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(16, { message: 'ADMIN_TOKEN must be at least 16 characters' })
  ADMIN_TOKEN?: string;

  /** Where embedded PostgreSQL keeps its files; `memory://` keeps nothing (tests). */
  @Transform(({ value }) => (value === undefined || value === '' ? './data' : value))
  @IsString()
  DATA_DIR = './data';

  @Transform(({ value }) => (value === undefined || value === '' ? 'info' : value))
  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  /** Scheme and host used for absolute URLs (README.md of the spec, "Absolute URLs"). */
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] }, { message: 'PUBLIC_URL must be an http(s) URL' })
  PUBLIC_URL?: string;

  /**
   * Prefix of every BullMQ key in Redis. Deployments (and test runs or benches
   * sharing one Redis) that must never see each other's jobs use different prefixes.
   */
  @Transform(({ value }) => (value === undefined || value === '' ? 'usage-ledger' : value))
  @Matches(/^[A-Za-z0-9_.-]+$/, { message: 'QUEUE_PREFIX may contain only letters, digits, "_", "." and "-"' })
  QUEUE_PREFIX = 'usage-ledger';

  /** First retry delay of a failed job; each further retry doubles it (8 attempts in all). */
  @Transform(({ value }) => (value === undefined || value === '' ? 1000 : Number(value)))
  @IsInt({ message: 'QUEUE_RETRY_DELAY_MS must be a whole number of milliseconds, at least 1' })
  @Min(1, { message: 'QUEUE_RETRY_DELAY_MS must be a whole number of milliseconds, at least 1' })
  QUEUE_RETRY_DELAY_MS = 1000;

  /**
   * The broker of the OpenStack notification collector (collector.md 1.2):
   * amqp://, amqps:// or an oslo transport_url (rabbit://u:p@h1,u:p@h2/vhost).
   * Unset: the collector is disabled.
   */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(BROKER_URL, { message: 'NOTIFICATIONS_URL must be an amqp://, amqps:// or rabbit:// URL naming at least one host' })
  NOTIFICATIONS_URL?: string;

  /** Exchanges the collector binds its queue to (each service's control_exchange). */
  @Transform(({ value }) => (value === undefined || value === '' ? 'nova,cinder,openstack' : value))
  @Matches(/^\s*[A-Za-z0-9_.:-]+\s*(,\s*[A-Za-z0-9_.:-]+\s*)*$/, {
    message: 'NOTIFICATIONS_EXCHANGES must be a comma-separated list of exchange names (letters, digits, "_", ".", ":", "-")',
  })
  NOTIFICATIONS_EXCHANGES = 'nova,cinder,openstack';

  /** The services' notification topic; the routing key bound is `<topic>.info`. */
  @Transform(({ value }) => (value === undefined || value === '' ? 'notifications' : value))
  @Matches(/^[A-Za-z0-9_.:-]+$/, { message: 'NOTIFICATIONS_TOPIC may contain only letters, digits, "_", ".", ":" and "-"' })
  NOTIFICATIONS_TOPIC = 'notifications';

  /** The collector's own queue; `<queue>.retry` and `<queue>.dead` are named from it. */
  @Transform(({ value }) => (value === undefined || value === '' ? 'usage-ledger.notifications' : value))
  @Matches(/^[A-Za-z0-9_.:-]{1,200}$/, { message: 'NOTIFICATIONS_QUEUE may contain only letters, digits, "_", ".", ":" and "-" (at most 200)' })
  NOTIFICATIONS_QUEUE = 'usage-ledger.notifications';

  /** Unacknowledged messages per collector (basic.qos). */
  @Transform(({ value }) => (value === undefined || value === '' ? 32 : Number(value)))
  @IsInt({ message: 'NOTIFICATIONS_PREFETCH must be a whole number between 1 and 1000' })
  @Min(1, { message: 'NOTIFICATIONS_PREFETCH must be a whole number between 1 and 1000' })
  @Max(1000, { message: 'NOTIFICATIONS_PREFETCH must be a whole number between 1 and 1000' })
  NOTIFICATIONS_PREFETCH = 32;

  /** Durability of an exchange the collector has to declare; must equal the services' amqp_durable_queues. */
  @Transform(({ value }) => (value === undefined || value === '' ? false : value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'NOTIFICATIONS_DURABLE_EXCHANGES must be true or false' })
  NOTIFICATIONS_DURABLE_EXCHANGES = false;

  /** How long a deferred notification waits in `<queue>.retry`, in seconds. */
  @Transform(({ value }) => (value === undefined || value === '' ? 5 : Number(value)))
  @IsInt({ message: 'NOTIFICATIONS_RETRY_DELAY_S must be a whole number between 1 and 3600' })
  @Min(1, { message: 'NOTIFICATIONS_RETRY_DELAY_S must be a whole number between 1 and 3600' })
  @Max(3600, { message: 'NOTIFICATIONS_RETRY_DELAY_S must be a whole number between 1 and 3600' })
  NOTIFICATIONS_RETRY_DELAY_S = 5;

  /** Deferrals before a notification is dead-lettered. */
  @Transform(({ value }) => (value === undefined || value === '' ? 12 : Number(value)))
  @IsInt({ message: 'NOTIFICATIONS_MAX_RETRIES must be a whole number between 0 and 1000' })
  @Min(0, { message: 'NOTIFICATIONS_MAX_RETRIES must be a whole number between 0 and 1000' })
  @Max(1000, { message: 'NOTIFICATIONS_MAX_RETRIES must be a whole number between 0 and 1000' })
  NOTIFICATIONS_MAX_RETRIES = 12;

  /** Instance metadata keys kept from notifications, comma-separated; `*` keeps every key. */
  @Transform(({ value }) => (value === undefined ? '' : value))
  @Matches(/^[^\u0000]*$/, { message: 'NOTIFICATIONS_INSTANCE_METADATA must not contain NUL characters' })
  NOTIFICATIONS_INSTANCE_METADATA = '';

  /** Accounting time zone of reports (reports.md §1.5): an IANA name PostgreSQL knows; fixed at the first start. */
  @Transform(({ value }) => (value === undefined || value === '' ? 'UTC' : value))
  @Matches(/^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+)*$/, { message: 'REPORT_TIME_ZONE must be an IANA time zone name such as UTC or Europe/Berlin' })
  REPORT_TIME_ZONE = 'UTC';

  /** Default `currency` of reports (§3.1): ISO 4217 or SU; unset means no cost unless asked. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^([A-Z]{3}|SU)$/, { message: 'REPORT_CURRENCY must be a three-letter ISO 4217 code or SU' })
  REPORT_CURRENCY?: string;

  /** Site of Almanach figures (§2.3), the form of an AMIE site name; fixed at the first start. */
  @Transform(({ value }) => (value === undefined || value === '' ? 'cloud' : value))
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, { message: 'CLOUD_SITE must be 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit' })
  CLOUD_SITE = 'cloud';

  /** CSV exports streaming at once in one API process (reports.md 1.7); more answer 429. */
  @Transform(({ value }) => (value === undefined || value === '' ? 4 : Number(value)))
  @IsInt({ message: 'REPORT_MAX_EXPORTS must be a whole number, at least 1' })
  @Min(1, { message: 'REPORT_MAX_EXPORTS must be a whole number, at least 1' })
  REPORT_MAX_EXPORTS = 4;

  /**
   * Connections each API or worker process may open to a PostgreSQL server
   * (DATABASE_URL); ignored by embedded PostgreSQL, which has one. Sized
   * against the server's max_connections over every process. An API
   * process also needs it above REPORT_MAX_EXPORTS
   * (AppConfig.assertExportsFitPool).
   */
  @Transform(({ value }) => (value === undefined || value === '' ? 20 : Number(value)))
  @IsInt({ message: 'DATABASE_POOL_SIZE must be a whole number from 2 to 1000' })
  @Min(2, { message: 'DATABASE_POOL_SIZE must be a whole number from 2 to 1000' })
  @Max(1000, { message: 'DATABASE_POOL_SIZE must be a whole number from 2 to 1000' })
  DATABASE_POOL_SIZE = 20;

  /** Late-data horizon in days (reports.md §5.4): source writes reaching a day older than this are refused; 0 (default) means no horizon. */
  @Transform(({ value }) => (value === undefined || value === '' ? 0 : Number(value)))
  @IsInt({ message: 'LATE_HORIZON_DAYS must be a whole number of days from 0 to 36500 (0: no horizon)' })
  @Min(0, { message: 'LATE_HORIZON_DAYS must be a whole number of days from 0 to 36500 (0: no horizon)' })
  @Max(36500, { message: 'LATE_HORIZON_DAYS must be a whole number of days from 0 to 36500 (0: no horizon)' })
  LATE_HORIZON_DAYS = 0;

  /** Project-days of the nightly sampled consistency check (reports.md 7.5); 0 turns it off. */
  @Transform(({ value }) => (value === undefined || value === '' ? 2000 : Number(value)))
  @IsInt({ message: 'CHECK_SAMPLE_PER_NIGHT must be a whole number, at least 0' })
  @Min(0, { message: 'CHECK_SAMPLE_PER_NIGHT must be a whole number, at least 0' })
  CHECK_SAMPLE_PER_NIGHT = 2000;

  /**
   * Dirty keys a worker drains between two VACUUMs of report_dirty_key
   * (RollupDrainer.tick); 0 leaves the table to autovacuum alone.
   */
  @Transform(({ value }) => (value === undefined || value === '' ? 100000 : Number(value)))
  @IsInt({ message: 'ROLLUP_VACUUM_AFTER_KEYS must be a whole number, at least 0 (0: never)' })
  @Min(0, { message: 'ROLLUP_VACUUM_AFTER_KEYS must be a whole number, at least 0 (0: never)' })
  ROLLUP_VACUUM_AFTER_KEYS = 100000;

  /** Days after a month ends before it closes itself (reports.md 5.2); 0, the default, never. */
  @Transform(({ value }) => (value === undefined || value === '' ? 0 : Number(value)))
  @IsInt({ message: 'PERIOD_AUTO_CLOSE_DAYS must be a whole number, at least 0' })
  @Min(0, { message: 'PERIOD_AUTO_CLOSE_DAYS must be a whole number, at least 0' })
  PERIOD_AUTO_CLOSE_DAYS = 0;

  /** Budget thresholds in percent of granted (reports.md 6.6): 1 to 10 distinct whole numbers from 1 to 1000, comma-separated. */
  @Transform(({ value }) => (value === undefined || value === '' ? '80,100,120' : value))
  @Matches(/^\s*([1-9]\d{0,3})(\s*,\s*[1-9]\d{0,3}){0,9}\s*$/, { message: 'BUDGET_THRESHOLDS must be 1 to 10 distinct whole numbers from 1 to 1000, comma-separated' })
  BUDGET_THRESHOLDS = '80,100,120';

  /** Hours a hold lives without `expires_at` (reports.md 6.4). */
  @Transform(({ value }) => (value === undefined || value === '' ? 168 : Number(value)))
  @IsInt({ message: 'HOLD_TTL_HOURS must be a whole number of hours, at least 1' })
  @Min(1, { message: 'HOLD_TTL_HOURS must be a whole number of hours, at least 1' })
  HOLD_TTL_HOURS = 168;

  /** Days events stay in the feed (reports.md 6.7). */
  @Transform(({ value }) => (value === undefined || value === '' ? 400 : Number(value)))
  @IsInt({ message: 'EVENT_RETENTION_DAYS must be a whole number of days, at least 1' })
  @Min(1, { message: 'EVENT_RETENTION_DAYS must be a whole number of days, at least 1' })
  EVENT_RETENTION_DAYS = 400;

  /**
   * Silence threshold of the freshness figures (reports.md §9.1): one number
   * of seconds (≥ 1) for every source, or `source=seconds,…` over almanach,
   * amie and notifications (a source not named: 3600).
   */
  @Transform(({ value }) => (value === undefined || value === '' ? '3600' : value))
  @Matches(/^\s*([1-9]\d{0,9}|(almanach|amie|notifications)\s*=\s*[1-9]\d{0,9}(\s*,\s*(almanach|amie|notifications)\s*=\s*[1-9]\d{0,9})*)\s*$/, {
    message: 'SOURCE_SILENCE_SECONDS must be a whole number of seconds (at least 1) or a list source=seconds,… over almanach, amie and notifications',
  })
  SOURCE_SILENCE_SECONDS = '3600';

  /** Honour X-Forwarded-* headers (Fastify trustProxy). */
  @Transform(({ value }) => value === 'true' || value === '1')
  TRUST_PROXY = false;
}

export class ConfigError extends Error {}

/** Validates the whole environment at once and names every bad variable. */
export function validateEnv(env: Record<string, string | undefined>): EnvSchema {
  const known = Object.keys(new EnvSchema()).concat(['DATABASE_URL', 'REDIS_URL', 'ADMIN_TOKEN', 'PUBLIC_URL', 'NOTIFICATIONS_URL', 'REPORT_CURRENCY']);
  const picked: Record<string, string | undefined> = {};
  for (const key of new Set(known)) picked[key] = env[key];
  const parsed = plainToInstance(EnvSchema, picked, { exposeDefaultValues: true });
  const errors = validateSync(parsed, { skipMissingProperties: false });
  if (errors.length > 0) {
    // Each message names its variable: the line is the messages, each once, and
    // the name is added only to a message that does not start with it.
    const lines = errors.map((e) => {
      const messages = [...new Set(Object.values(e.constraints ?? {}))].join('; ');
      return `  ${messages.startsWith(`${e.property} `) ? messages : `${e.property}: ${messages}`}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const thresholds = parsed.BUDGET_THRESHOLDS.split(',').map((x) => Number(x.trim()));
  if (new Set(thresholds).size !== thresholds.length || thresholds.some((x) => x > 1000)) {
    throw new ConfigError('invalid configuration:\n  BUDGET_THRESHOLDS must be 1 to 10 distinct whole numbers from 1 to 1000, comma-separated');
  }
  return parsed;
}
