import { Injectable, OnModuleInit } from '@nestjs/common';
import { UsageLoaderService } from '../../usage/usage-loader.service';
import { MetricCounts } from './metric-counts.service';

/**
 * `ledger_ingest_total{source="amie", outcome="loaded" | "superseded" | "refused_horizon"}`
 * (reports.md §9.1), counted where AMIE records are loaded: the reports
 * subscribe to the usage module's `UsageLoaderService.onLoaded` (reports
 * import usage's exported processing module; usage imports nothing of the
 * reports, docs/architecture.md).
 *
 * Counted after the load's commit, not inside its transaction: the load is
 * one statement, and MetricCounts counts in memory and flushes every 5 s on
 * its own, so counting "in" the transaction would only mean counting before
 * a commit that may still fail (a deadlock, a lost connection: the job is
 * retried and would count twice). After the commit a load is counted once —
 * a retried job finds the batch no longer pending and reports nothing —
 * at the price of losing at most the last 5 s of counts if the process dies
 * before its next flush, like every other counter of the table.
 */
@Injectable()
export class AmieLoadCounter implements OnModuleInit {
  constructor(
    private readonly loader: UsageLoaderService,
    private readonly counts: MetricCounts,
  ) {}

  onModuleInit(): void {
    this.loader.onLoaded(({ site, loaded, superseded, refused }) => {
      this.counts.add('ledger_ingest_total', { source: 'amie', site, outcome: 'loaded' }, loaded);
      this.counts.add('ledger_ingest_total', { source: 'amie', site, outcome: 'superseded' }, superseded);
      // The load's only filter is the late-data horizon (src/reports/rating/horizon/amie-horizon.filter.ts).
      if (refused > 0) this.counts.add('ledger_ingest_total', { source: 'amie', site, outcome: 'refused_horizon' }, refused);
    });
  }
}
