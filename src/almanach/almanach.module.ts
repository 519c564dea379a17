import { Module } from '@nestjs/common';
import { AlmanachController } from './almanach.controller';
import { AlmanachService } from './almanach.service';

@Module({ controllers: [AlmanachController], providers: [AlmanachService], exports: [AlmanachService] })
export class AlmanachModule {}
