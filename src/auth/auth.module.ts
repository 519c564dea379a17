import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccessGuard } from './access.guard';
import { AdminController } from './admin.controller';
import { AdminCredentialNotice } from './admin-credential.notice';
import { AuthRepository } from './auth.repository';
import { AuthService } from './auth.service';
import { TokenCheckHook } from './token-check.hook';

@Global()
@Module({
  controllers: [AdminController],
  providers: [AuthRepository, AuthService, AdminCredentialNotice, TokenCheckHook, { provide: APP_GUARD, useClass: AccessGuard }],
  exports: [AuthService],
})
export class AuthModule {}
