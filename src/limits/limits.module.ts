import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ChangesModule } from '../changes/changes.module';
import { CustomersModule } from '../customers/customers.module';
import { LimitsFastLane } from './limits-fast-lane';
import { LimitsController } from './limits.controller';
import { LimitsService } from './limits.service';

@Module({
  imports: [ChangesModule, AuthModule, CustomersModule],
  controllers: [LimitsController],
  providers: [LimitsService, LimitsFastLane],
  exports: [LimitsService, LimitsFastLane],
})
export class LimitsModule {}
