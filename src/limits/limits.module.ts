import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ChangesModule } from '../changes/changes.module';
import { LimitsFastLane } from './limits-fast-lane';
import { LimitsController } from './limits.controller';
import { LimitsStore } from './limits-store';

@Module({
  imports: [ChangesModule, AuthModule],
  controllers: [LimitsController],
  providers: [LimitsStore, LimitsFastLane],
  exports: [LimitsStore, LimitsFastLane],
})
export class LimitsModule {}
