import { Module } from '@nestjs/common';
import { AstakosIdentityService } from './astakos-identity.service';
import { AstakosAccountAliasController, AstakosAccountController, AstakosIdentityController } from './astakos.controller';
import { QuotasAdminController } from './quotas-admin.controller';
import { QuotasCoreModule } from './quotas-core.module';

/** Astakos-style quotas and commissions over HTTP (quotas.md): the Astakos mounts and /admin/quotas. */
@Module({
  imports: [QuotasCoreModule],
  controllers: [AstakosAccountController, AstakosAccountAliasController, AstakosIdentityController, QuotasAdminController],
  providers: [AstakosIdentityService],
  exports: [QuotasCoreModule],
})
export class QuotasModule {}
