/**
 * A counting limit of concurrent CSV exports in one process
 * (`REPORT_MAX_EXPORTS`, reports.md 1.7). `tryAcquire` never waits: the
 * caller answers `429` when it gives null. The release function it returns
 * is idempotent, so every path that ends an export may call it.
 */
export class ExportSlots {
  private used = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`ExportSlots: size must be a whole number ≥ 1, not ${size}`);
  }

  get inUse(): number {
    return this.used;
  }

  tryAcquire(): (() => void) | null {
    if (this.used >= this.size) return null;
    this.used++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used--;
    };
  }
}
