import { Module } from '@nestjs/common';
import { CommissionsService } from './commissions.service';
import { QuotaCommissionsRepository } from './quota-commissions.repository';
import { QuotaHoldingsRepository } from './quota-holdings.repository';
import { QuotaResourcesRepository } from './quota-resources.repository';
import { QuotasService } from './quotas.service';

/**
 * Quotas without HTTP: the services and their repositories. The allocation
 * quota link (and the worker through it) imports this module to set project
 * limits through `QuotasService.setLimits` (allocations.md §10), so
 * QuotasService is provided once and no controller enters the worker.
 */
@Module({
  providers: [QuotaResourcesRepository, QuotaHoldingsRepository, QuotaCommissionsRepository, QuotasService, CommissionsService],
  exports: [QuotasService, CommissionsService],
})
export class QuotasCoreModule {}
