/**
 * Database failures that retrying in place will cure (collector.md 5.2):
 * the server unreachable or refusing connections, a connection lost
 * mid-transaction, SQLSTATE classes 08, 53 and 57, 40001 and 40P01, a query
 * timeout, any error raised while connecting.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const err = e as { code?: unknown; message?: unknown; name?: unknown; driverError?: unknown; cause?: unknown };
    const code = typeof err.code === 'string' ? err.code : '';
    if (/^(08|53|57)/.test(code) || code === '40001' || code === '40P01') return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
    const message = typeof err.message === 'string' ? err.message : '';
    if (
      /Connection terminated|connection (is )?closed|Client has encountered a connection error|timeout exceeded when trying to connect|Query read timeout|canceling statement due to statement timeout|Connection ended unexpectedly|the database system is (starting up|shutting down)|terminating connection/i.test(
        message,
      )
    )
      return true;
    if (err.name === 'CannotConnectAlreadyConnectedError' || err.name === 'ConnectionIsNotSetError') return true;
    e = err.driverError ?? err.cause;
  }
  return false;
}
