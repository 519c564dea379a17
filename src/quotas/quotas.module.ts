import { Module } from '@nestjs/common';
import { AstakosIdentityService } from './astakos-identity.service';
import { AstakosAccountAliasController, AstakosAccountController, AstakosIdentityController } from './astakos.controller';
import { CommissionsService } from './commissions.service';
import { QuotasAdminController } from './quotas-admin.controller';
import { QuotasService } from './quotas.service';

/**
 * Astakos-style quotas and commissions (quotas.md). Exports QuotasService so
 * that the allocation link sets project limits through `setLimits`.
 */
@Module({
  controllers: [AstakosAccountController, AstakosAccountAliasController, AstakosIdentityController, QuotasAdminController],
  providers: [QuotasService, CommissionsService, AstakosIdentityService],
  exports: [QuotasService, CommissionsService],
})
export class QuotasModule {}
