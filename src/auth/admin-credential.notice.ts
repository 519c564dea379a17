import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from 'pino';
import { LOGGER } from '../core/tokens';
import { AuthService } from './auth.service';

/**
 * A fresh deployment without ADMIN_TOKEN can create no token and no site
 * (auth.md "Bootstrap"): every /admin call answers 401 and nothing says why.
 * The API says so once, at start, when neither ADMIN_TOKEN nor a stored
 * admin token exists. The line names the variable, never a secret.
 */
@Injectable()
export class AdminCredentialNotice implements OnApplicationBootstrap {
  constructor(
    private readonly auth: AuthService,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (await this.auth.adminReachable()) return;
    this.log.warn(
      'no admin credential: ADMIN_TOKEN is unset and no admin token is stored, so nothing can be administered (tokens, AMIE sites); set ADMIN_TOKEN (16 characters or more) and restart',
    );
  }
}
