import { AppConfig } from './app-config';
import { ConfigError, validateEnv } from './env.schema';

describe(validateEnv.name, () => {
  it('applies the defaults', () => {
    const config = AppConfig.fromValues({});
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.embeddedDatabase).toBe(true);
    expect(config.inProcessQueue).toBe(true);
    expect(config.dataDir).toMatch(/\/data$/);
    expect(config.logLevel).toBe('info');
  });

  it('reads valid values', () => {
    const config = AppConfig.fromValues({
      DATABASE_URL: 'postgres://u:p@db:5432/x',
      REDIS_URL: 'redis://cache:6379',
      PORT: '8080',
      ADMIN_TOKEN: 'a-long-enough-admin-token',
      DATA_DIR: 'memory://',
      LOG_LEVEL: 'debug',
      PUBLIC_URL: 'https://ledger.example.org/',
    });
    expect(config.port).toBe(8080);
    expect(config.dataDir).toBe('memory://');
    expect(config.publicUrl).toBe('https://ledger.example.org');
    expect(config.embeddedDatabase).toBe(false);
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      validateEnv({ DATABASE_URL: 'mysql://x', REDIS_URL: 'http://x', PORT: 'eighty', ADMIN_TOKEN: 'short', LOG_LEVEL: 'loud', PUBLIC_URL: 'not a url' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'PORT', 'ADMIN_TOKEN', 'LOG_LEVEL', 'PUBLIC_URL']) expect(message).toContain(`\n  ${name} must be`);
  });

  it.each(['abc', '0', '70000', '1.5'])('says what PORT=%s must be once, naming the variable once', (value) => {
    expect(() => validateEnv({ PORT: value })).toThrow(/^invalid configuration:\n  PORT must be a whole number between 1 and 65535$/);
  });

  it('names the variable once per line, whatever rules fail', () => {
    let message = '';
    try {
      validateEnv({ PORT: 'x', NOTIFICATIONS_PREFETCH: '0', QUEUE_RETRY_DELAY_MS: 'soon', LOG_LEVEL: 'loud' });
    } catch (e) {
      message = (e as Error).message;
    }
    const lines = message.split('\n').slice(1);
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      const name = /^  ([A-Z_]+) /.exec(line)?.[1];
      expect(name).toBeDefined();
      expect(line.split(name!)).toHaveLength(2);
    }
  });

  it('REPORT_MAX_EXPORTS: default 4, at least 1, a whole number', () => {
    expect(AppConfig.fromValues({}).reportMaxExports).toBe(4);
    expect(AppConfig.fromValues({ REPORT_MAX_EXPORTS: '1' }).reportMaxExports).toBe(1);
    for (const value of ['0', '2.5', 'four']) expect(() => validateEnv({ REPORT_MAX_EXPORTS: value })).toThrow(/\n  REPORT_MAX_EXPORTS must be a whole number, at least 1$/);
  });

  it('DATABASE_POOL_SIZE: default 20, a whole number from 2 to 1000', () => {
    expect(AppConfig.fromValues({}).databasePoolSize).toBe(20);
    expect(AppConfig.fromValues({ DATABASE_POOL_SIZE: '5' }).databasePoolSize).toBe(5);
    for (const value of ['1', '1001', '2.5', 'ten']) expect(() => validateEnv({ DATABASE_POOL_SIZE: value })).toThrow(/\n  DATABASE_POOL_SIZE must be a whole number from 2 to 1000$/);
  });

  it('an API process on a PostgreSQL server needs DATABASE_POOL_SIZE above REPORT_MAX_EXPORTS; workers, the collector and embedded PostgreSQL do not', () => {
    const server = { DATABASE_URL: 'postgres://ledger@db/ledger' };
    // validateEnv (every process) takes it.
    const tight = AppConfig.fromValues({ ...server, DATABASE_POOL_SIZE: '4' });
    expect(() => tight.assertExportsFitPool()).toThrow(
      /^invalid configuration:\n  DATABASE_POOL_SIZE \(4\) must be greater than REPORT_MAX_EXPORTS \(4\) in an API process: each CSV export holds a connection while it streams$/,
    );
    expect(() => AppConfig.fromValues({ ...server, DATABASE_POOL_SIZE: '5' }).assertExportsFitPool()).not.toThrow();
    expect(() => AppConfig.fromValues({ ...server, REPORT_MAX_EXPORTS: '20' }).assertExportsFitPool()).toThrow(/DATABASE_POOL_SIZE \(20\) must be greater than REPORT_MAX_EXPORTS \(20\)/);
    expect(() => AppConfig.fromValues({ DATABASE_POOL_SIZE: '2', REPORT_MAX_EXPORTS: '8' }).assertExportsFitPool()).not.toThrow();
  });

  it('ROLLUP_VACUUM_AFTER_KEYS: default 100000, a whole number at least 0 (0: never)', () => {
    expect(AppConfig.fromValues({}).rollupVacuumAfterKeys).toBe(100000);
    expect(AppConfig.fromValues({ ROLLUP_VACUUM_AFTER_KEYS: '0' }).rollupVacuumAfterKeys).toBe(0);
    for (const value of ['-1', '2.5', 'many']) expect(() => validateEnv({ ROLLUP_VACUUM_AFTER_KEYS: value })).toThrow(/\n  ROLLUP_VACUUM_AFTER_KEYS must be a whole number, at least 0 \(0: never\)$/);
  });

  it('PERIOD_AUTO_CLOSE_DAYS: default 0 (never), a whole number at least 0', () => {
    expect(AppConfig.fromValues({}).periodAutoCloseDays).toBe(0);
    expect(AppConfig.fromValues({ PERIOD_AUTO_CLOSE_DAYS: '5' }).periodAutoCloseDays).toBe(5);
    for (const value of ['-1', '2.5', 'five']) expect(() => validateEnv({ PERIOD_AUTO_CLOSE_DAYS: value })).toThrow(/\n  PERIOD_AUTO_CLOSE_DAYS must be a whole number, at least 0$/);
  });

  it('BUDGET_THRESHOLDS: default 80,100,120, 1 to 10 distinct whole numbers from 1 to 1000, answered ascending', () => {
    expect(AppConfig.fromValues({}).budgetThresholds).toEqual([80, 100, 120]);
    expect(AppConfig.fromValues({ BUDGET_THRESHOLDS: '100, 50' }).budgetThresholds).toEqual([50, 100]);
    for (const value of ['0', '80,80', '1001', '1,2,3,4,5,6,7,8,9,10,11', 'eighty', '80,']) {
      expect(() => validateEnv({ BUDGET_THRESHOLDS: value })).toThrow(/\n  BUDGET_THRESHOLDS must be 1 to 10 distinct whole numbers from 1 to 1000, comma-separated$/);
    }
  });

  it('HOLD_TTL_HOURS (default 168) and EVENT_RETENTION_DAYS (default 400): whole numbers at least 1', () => {
    expect(AppConfig.fromValues({}).holdTtlHours).toBe(168);
    expect(AppConfig.fromValues({}).eventRetentionDays).toBe(400);
    expect(AppConfig.fromValues({ HOLD_TTL_HOURS: '2', EVENT_RETENTION_DAYS: '30' })).toMatchObject({ holdTtlHours: 2, eventRetentionDays: 30 });
    expect(() => validateEnv({ HOLD_TTL_HOURS: '0' })).toThrow(/HOLD_TTL_HOURS must be a whole number of hours, at least 1/);
    expect(() => validateEnv({ EVENT_RETENTION_DAYS: '1.5' })).toThrow(/EVENT_RETENTION_DAYS must be a whole number of days, at least 1/);
  });

  it('LATE_HORIZON_DAYS: default 0 (no horizon), a whole number of days from 0 to 36500', () => {
    expect(AppConfig.fromValues({}).lateHorizonDays).toBe(0);
    expect(AppConfig.fromValues({ LATE_HORIZON_DAYS: '400' }).lateHorizonDays).toBe(400);
    for (const value of ['-1', '1.5', 'ten', '36501']) {
      expect(() => validateEnv({ LATE_HORIZON_DAYS: value })).toThrow(/\n  LATE_HORIZON_DAYS must be a whole number of days from 0 to 36500 \(0: no horizon\)$/);
    }
  });

  it('SOURCE_SILENCE_SECONDS: one number for every source, or source=seconds pairs (others 3600)', () => {
    expect(AppConfig.fromValues({}).sourceSilenceSeconds).toEqual({ almanach: 3600, amie: 3600, notifications: 3600 });
    expect(AppConfig.fromValues({ SOURCE_SILENCE_SECONDS: '60' }).sourceSilenceSeconds).toEqual({ almanach: 60, amie: 60, notifications: 60 });
    expect(AppConfig.fromValues({ SOURCE_SILENCE_SECONDS: 'amie=86400, notifications=600' }).sourceSilenceSeconds).toEqual({ almanach: 3600, amie: 86400, notifications: 600 });
    for (const bad of ['0', '-5', '1.5', 'amie', 'amie=0', 'ceilometer=60', 'amie=60,', 'ten']) {
      expect(() => validateEnv({ SOURCE_SILENCE_SECONDS: bad })).toThrow(/\n  SOURCE_SILENCE_SECONDS must be a whole number of seconds/);
    }
  });

  it('never echoes a secret value in its message', () => {
    expect(() => validateEnv({ ADMIN_TOKEN: 'secret12' })).toThrow(/\n  ADMIN_TOKEN must be at least 16 characters$/);
    expect(() => validateEnv({ ADMIN_TOKEN: 'secret12' })).not.toThrow(/secret12/);
  });
});
