import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
  @IsInt({ message: 'PORT must be a whole number' })
  @Min(1, { message: 'PORT must be between 1 and 65535' })
  @Max(65535, { message: 'PORT must be between 1 and 65535' })
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
  @IsInt({ message: 'QUEUE_RETRY_DELAY_MS must be a whole number' })
  @Min(1, { message: 'QUEUE_RETRY_DELAY_MS must be at least 1' })
  QUEUE_RETRY_DELAY_MS = 1000;

  /** Honour X-Forwarded-* headers (Fastify trustProxy). */
  @Transform(({ value }) => value === 'true' || value === '1')
  TRUST_PROXY = false;
}

export class ConfigError extends Error {}

/** Validates the whole environment at once and names every bad variable. */
export function validateEnv(env: Record<string, string | undefined>): EnvSchema {
  const known = Object.keys(new EnvSchema()).concat(['DATABASE_URL', 'REDIS_URL', 'ADMIN_TOKEN', 'PUBLIC_URL']);
  const picked: Record<string, string | undefined> = {};
  for (const key of new Set(known)) picked[key] = env[key];
  const parsed = plainToInstance(EnvSchema, picked, { exposeDefaultValues: true });
  const errors = validateSync(parsed, { skipMissingProperties: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => `  ${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed;
}
