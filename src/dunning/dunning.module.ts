import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { BillingModule } from '../billing/billing.module';
import { CustomersModule } from '../customers/customers.module';
import { EventsModule } from '../events/events.module';
import { HoldsModule } from '../holds/holds.module';
import { DunningScheduler } from './dunning-scheduler';
import { DunningController } from './dunning.controller';
import { DunningService } from './dunning.service';
import { JobLeases } from './job-leases';

/**
 * The dunning rules: overdue invoices warn and then hold their customer, payment lifts the hold.
 * Payments and voids (billing's InvoicesService) tell it in their own transactions.
 */
@Module({
  imports: [DatabaseModule, BillingModule, CustomersModule, HoldsModule, EventsModule],
  controllers: [DunningController],
  providers: [DunningService, DunningScheduler, JobLeases],
  exports: [DunningService],
})
export class DunningModule {}
