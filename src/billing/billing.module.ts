import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { AuditModule } from '../audit/audit.module';
import { CustomersModule } from '../customers/customers.module';
import { EventsModule } from '../events/events.module';
import { BillingScheduler } from './billing-scheduler';
import { BillingController } from './billing.controller';
import { BillingService } from './billing.service';
import { InvoicesController } from './invoices.controller';
import { InvoicesService } from './invoices.service';

@Module({
  imports: [DatabaseModule, AuditModule, CustomersModule, EventsModule],
  controllers: [BillingController, InvoicesController],
  providers: [BillingService, BillingScheduler, InvoicesService],
  exports: [InvoicesService],
})
export class BillingModule {}
