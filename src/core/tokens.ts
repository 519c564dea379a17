/**
 * Injection tokens for the process resources CoreModule provides besides
 * AppConfig and DataSource (classes, injected by type). Feature code asks for
 * exactly what it uses: `@Inject(LOGGER) log: Logger`.
 */
/** The root pino Logger; call `.child({ component })` for a module's own. */
export const LOGGER = Symbol('LOGGER');
/** The QueueRuntime (mode and, with REDIS_URL, the shared ioredis connection). */
export const QUEUE_CONNECTION = Symbol('QUEUE_CONNECTION');
/** The job names declared by the features of this process (string[]). */
export const DECLARED_JOBS = Symbol('DECLARED_JOBS');
