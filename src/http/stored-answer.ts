/**
 * An answer rendered earlier and sent again as it was: status, the headers
 * that matter, the body text. A feature throws it from a guard (the
 * reports' Idempotency-Key replay, reports.md 1.8) and the one global filter
 * sends it verbatim, because a Nest handler's result always gets the route's
 * @HttpCode status and its JSON serialisation, not the stored ones.
 */
export class StoredAnswer extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly payload: string,
  ) {
    super(`stored answer ${status}`);
    this.name = 'StoredAnswer';
  }
}
