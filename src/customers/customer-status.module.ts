import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CustomerStatusController } from './customer-status.controller';
import { CustomerStatusService } from './customer-status.service';
import { CustomersModule } from './customers.module';

/** Disabling and enabling customers, audited. */
@Module({
  imports: [CustomersModule, AuditModule],
  controllers: [CustomerStatusController],
  providers: [CustomerStatusService],
})
export class CustomerStatusModule {}
