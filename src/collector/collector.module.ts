import { Module } from '@nestjs/common';
import { AlmanachCoreModule } from '../almanach/almanach-core.module';
import { AlmanachWriter } from './almanach-writer';
import { CollectorCounters } from './collector-counters';
import { CollectorRunner, EmbeddedCollector } from './collector-runner';
import { CollectorRepository } from './collector.repository';
import { CollectorService } from './collector.service';
import { NotificationConsumer } from './notification-consumer';

/**
 * The OpenStack notification collector (collector.md): everything but the
 * decision of which process runs it. `npm run start:collector` builds it and
 * calls CollectorRunner.start(); the API imports CollectorApiModule, which
 * starts it only on the embedded database.
 */
@Module({
  // The Almanach service without its HTTP controller; the writer also reads an
  // entity's versions through AlmanachRepository when the service answers "not
  // found" (none yet → defer; all closed → refused or a re-sent delete).
  imports: [AlmanachCoreModule],
  providers: [CollectorRepository, AlmanachWriter, CollectorService, CollectorCounters, NotificationConsumer, CollectorRunner],
  exports: [CollectorRunner, CollectorRepository],
})
export class CollectorModule {}

/** The API's part: the collector in-process when DATABASE_URL is unset and NOTIFICATIONS_URL set (collector.md 1.1). */
@Module({ imports: [CollectorModule], providers: [EmbeddedCollector], exports: [CollectorModule] })
export class CollectorApiModule {}
