import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { AuditModule } from '../audit/audit.module';
import { API_KEY_AUTHENTICATOR } from '../auth/authentication.guard';
import { ChangesModule } from '../changes/changes.module';
import { CustomersModule } from '../customers/customers.module';
import { CachedApiKeyAuthenticator } from './api-key-authenticator';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';

/**
 * API keys, and the `X-API-Key` authenticator the global authentication guard (wired in
 * app.module) and the limits fast lane use: both import this module.
 */
@Module({
  imports: [DatabaseModule, CustomersModule, ChangesModule, AuditModule],
  controllers: [ApiKeysController],
  providers: [
    ApiKeysService,
    CachedApiKeyAuthenticator,
    { provide: API_KEY_AUTHENTICATOR, useExisting: CachedApiKeyAuthenticator },
  ],
  exports: [API_KEY_AUTHENTICATOR, CachedApiKeyAuthenticator],
})
export class ApiKeysModule {}
