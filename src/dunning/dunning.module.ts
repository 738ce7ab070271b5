import { Module } from '@nestjs/common';
import { CustomersModule } from '../customers/customers.module';
import { EventsModule } from '../events/events.module';
import { HoldsModule } from '../holds/holds.module';
import { DunningScheduler } from './dunning-scheduler';
import { DunningController } from './dunning.controller';
import { DunningService } from './dunning.service';
import { JobLeases } from './job-leases';

/**
 * The dunning rules: overdue invoices warn and then hold their customer, payment lifts the hold.
 * Billing (payments, voids) calls DunningService.evaluate in its own transactions.
 */
@Module({
  imports: [CustomersModule, HoldsModule, EventsModule],
  controllers: [DunningController],
  providers: [DunningService, DunningScheduler, JobLeases],
  exports: [DunningService],
})
export class DunningModule {}
