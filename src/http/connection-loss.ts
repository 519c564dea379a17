/**
 * Whether an error means the database (or another backing server) went away
 * under the request: the server restarted or failed over, or the backend was
 * terminated (`pg_terminate_backend`). Such a request answers `503` with
 * `Retry-After`, never `500`; the pool drops the broken connection and opens
 * a new one for the next request.
 */
export function isConnectionLoss(error: unknown): boolean {
  let current: unknown = error;
  // TypeORM wraps the driver's error (`driverError`); others chain with `cause`.
  for (let hops = 0; current !== null && typeof current === 'object' && hops < 5; hops++) {
    const { code, syscall, message, name } = current as { code?: unknown; syscall?: unknown; message?: unknown; name?: unknown };
    // TypeORM releases a query runner by itself only when its connection emits
    // `error`; the request's next statement on it (an INSERT after START
    // TRANSACTION, say) then fails with this instead of the driver's error.
    if (name === 'QueryRunnerAlreadyReleasedError') return true;
    if (typeof code === 'string') {
      // 57P01 admin_shutdown (pg_terminate_backend), 57P02 crash_shutdown,
      // 57P03 cannot_connect_now (starting up, or a standby in recovery);
      // class 08 is connection exception.
      if (code === '57P01' || code === '57P02' || code === '57P03' || /^08[0-9A-Z]{3}$/.test(code)) return true;
      if (SOCKET_CODES.has(code)) return true;
      if (code === 'ENOENT' && syscall === 'connect') return true; // a Unix socket that is gone
    }
    if (typeof message === 'string' && LOST_MESSAGES.test(message)) return true;
    current = (current as { driverError?: unknown }).driverError ?? (current as { cause?: unknown }).cause;
  }
  return false;
}

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/** node-postgres raises these as plain Errors without a code. */
const LOST_MESSAGES =
  /^(Connection terminated|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect)/;

/** The message of the 503 a lost database connection answers (the global filter, TokenCheckHook). */
export const CONNECTION_LOST_MESSAGE = 'Database connection lost; retry the request';

/** Seconds a client should wait before retrying a 503 (a failover takes a few). */
export const RETRY_AFTER_SECONDS = 2;
