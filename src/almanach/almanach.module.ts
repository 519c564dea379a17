import { Module } from '@nestjs/common';
import { AlmanachCoreModule } from './almanach-core.module';
import { AlmanachController } from './almanach.controller';
import { HistoryPartitionsModule } from './partitions/history-partitions.module';

/** Almanach v1 over HTTP (almanach-v1.md), under /v1 and unprefixed. */
@Module({ imports: [AlmanachCoreModule, HistoryPartitionsModule], controllers: [AlmanachController], exports: [AlmanachCoreModule] })
export class AlmanachModule {}
