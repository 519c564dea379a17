import { Module } from '@nestjs/common';
import { AlmanachRepository } from './almanach.repository';
import { AlmanachService } from './almanach.service';
import { VolumeTypeRepository } from './volume-type.repository';

/**
 * The Almanach service and its repositories, without HTTP: what the HTTP
 * module and the notification collector (src/collector) both write through.
 */
@Module({
  providers: [AlmanachService, AlmanachRepository, VolumeTypeRepository],
  exports: [AlmanachService, AlmanachRepository],
})
export class AlmanachCoreModule {}
