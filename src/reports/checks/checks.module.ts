import { Module } from '@nestjs/common';
import { ChecksProcessingModule } from './checks-processing.module';
import { ConsistencyCheckController } from './consistency-check.controller';
import { ConsistencyCheckService } from './consistency-check.service';

/** `POST /admin/reports/consistency-checks`. */
@Module({
  imports: [ChecksProcessingModule],
  controllers: [ConsistencyCheckController],
  providers: [ConsistencyCheckService],
})
export class ChecksModule {}
