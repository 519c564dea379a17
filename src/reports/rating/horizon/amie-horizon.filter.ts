import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { PendingBatch, RecordRefusal, UsageLoaderService } from '../../../usage/usage-loader.service';
import { receiptSeq } from '../../../usage/usage-receipt';
import { HorizonRepository } from './horizon.repository';

/** The attribution field of each usage type (reports.md 2.2), which names the failure (amie-usage.md 5.5). */
const FIELD: Record<string, string> = { Compute: 'EndTime', Storage: 'CollectionTime', Adjustment: 'StartTime' };

/** The fixed processing error of a record beyond the late-data horizon (amie-usage.md 4.6, 5.5). */
export function horizonError(usageType: string): string {
  return `${FIELD[usageType] ?? 'EndTime'}: older than the late-data horizon`;
}

/**
 * The late-data horizon for AMIE (reports.md §5.4): registered on the usage
 * module's `UsageLoaderService.beforeLoad`, so usage imports nothing of the
 * reports. Inside the load's transaction it reads the clock's horizon (with
 * 0, the default, nothing else is read) and refuses the records whose new
 * version, or the version it would replace, is attributed to a refused day;
 * the loader stores them as failed records and loads the rest.
 */
@Injectable()
export class AmieHorizonFilter implements OnModuleInit {
  constructor(
    private readonly loader: UsageLoaderService,
    private readonly horizon: HorizonRepository,
  ) {}

  onModuleInit(): void {
    this.loader.beforeLoad((batch, m) => this.refusals(batch, m));
  }

  async refusals(batch: PendingBatch, m: EntityManager): Promise<RecordRefusal[]> {
    if ((await this.horizon.lateHorizonDays(m)) === 0) return [];
    const records = await batch.records();
    const refused = await this.horizon.refusedAmie(
      batch.site,
      batch.usageType,
      records.map((r) => ({ n: r.n, resource: r.r, localRecordId: r.i, seq: receiptSeq(batch.id, r.n), at: r.e ?? r.s })),
      m,
    );
    const error = horizonError(batch.usageType);
    return refused.map((n) => ({ n, error }));
  }
}
