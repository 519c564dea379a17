import { Module } from '@nestjs/common';
import { AlmanachController } from './almanach.controller';
import { AlmanachRepository } from './almanach.repository';
import { AlmanachService } from './almanach.service';
import { VolumeTypeRepository } from './volume-type.repository';

@Module({ controllers: [AlmanachController], providers: [AlmanachService, AlmanachRepository, VolumeTypeRepository], exports: [AlmanachService] })
export class AlmanachModule {}
