import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { CustomersModule } from '../customers/customers.module';
import { BillingScheduler } from './billing-scheduler';
import { BillingController } from './billing.controller';
import { BillingService } from './billing.service';

@Module({
  imports: [CustomersModule, ScheduleModule.forRoot()],
  controllers: [BillingController],
  providers: [BillingService, BillingScheduler],
})
export class BillingModule {}
