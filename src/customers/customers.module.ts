import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { AuditModule } from '../audit/audit.module';
import { ChangesModule } from '../changes/changes.module';
import { CustomerAccessReader } from './access/customer-access-reader';
import { CustomerAuditController } from './customer-audit.controller';
import { CustomersController } from './customers.controller';
import { CustomersService } from './customers.service';

/** Customers, and the one answer to "is this customer disabled now" (CustomerAccessReader). */
@Module({
  imports: [DatabaseModule, ChangesModule, AuditModule],
  controllers: [CustomersController, CustomerAuditController],
  providers: [CustomersService, CustomerAccessReader],
  exports: [CustomersService, CustomerAccessReader],
})
export class CustomersModule {}
