import { Module } from '@nestjs/common';
import { UsageProcessingModule } from '../../../usage/usage-processing.module';
import { AmieHorizonFilter } from './amie-horizon.filter';
import { HorizonRepository } from './horizon.repository';

/**
 * The late-data horizon where AMIE batches load (reports.md §5.4): the
 * filter on the usage loader. The worker imports it; so does the API, which
 * loads batches itself when the queue is in-process. (Almanach writes are
 * refused by the database triggers, in any process.)
 */
@Module({
  imports: [UsageProcessingModule],
  providers: [HorizonRepository, AmieHorizonFilter],
  exports: [HorizonRepository],
})
export class HorizonProcessingModule {}
