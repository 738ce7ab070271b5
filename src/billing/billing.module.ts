import { Module } from '@nestjs/common';
import { CustomersModule } from '../customers/customers.module';
import { DunningModule } from '../dunning/dunning.module';
import { EventsModule } from '../events/events.module';
import { BillingScheduler } from './billing-scheduler';
import { BillingController } from './billing.controller';
import { BillingService } from './billing.service';
import { InvoicesController } from './invoices.controller';
import { InvoicesService } from './invoices.service';

@Module({
  imports: [CustomersModule, DunningModule, EventsModule],
  controllers: [BillingController, InvoicesController],
  providers: [BillingService, BillingScheduler, InvoicesService],
})
export class BillingModule {}
