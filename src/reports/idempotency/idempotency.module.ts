import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { IdempotencyPruner } from './idempotency-pruner.service';
import { IdempotencyGuard } from './idempotency.guard';
import { IdempotencyRepository } from './idempotency.repository';
import { IdempotencyService } from './idempotency.service';

/** Idempotency-Key on every POST of the reports (reports.md 1.8): the guard, its table and the pruner (API process). */
@Module({
  providers: [IdempotencyRepository, IdempotencyService, IdempotencyPruner, { provide: APP_GUARD, useClass: IdempotencyGuard }],
})
export class IdempotencyModule {}
