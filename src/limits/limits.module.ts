import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { AuthModule } from '../auth/auth.module';
import { ChangesModule } from '../changes/changes.module';
import { LimitsFastLane } from './limits-fast-lane';
import { LimitsController } from './limits.controller';
import { LimitsStore } from './limits-store';

@Module({
  imports: [ChangesModule, AuthModule, ApiKeysModule],
  controllers: [LimitsController],
  providers: [LimitsStore, LimitsFastLane],
  exports: [LimitsStore, LimitsFastLane],
})
export class LimitsModule {}
