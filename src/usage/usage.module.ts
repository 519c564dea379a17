import { Module } from '@nestjs/common';
import { UsageSweeperService } from './usage-sweeper.service';
import { UsageController } from './usage.controller';
import { UsageProcessingModule } from './usage-processing.module';
import { UsageService } from './usage.service';

/** AMIE usage API (/amie) with its sweeper. */
@Module({
  imports: [UsageProcessingModule],
  controllers: [UsageController],
  providers: [UsageService, UsageSweeperService],
  exports: [UsageService],
})
export class UsageModule {}
