import { Global, Module } from '@nestjs/common';
import { CustomerChanges } from '../changes/customer-changes';
import { DatabaseAvailability } from './database-availability';
import { UnitOfWork } from './unit-of-work';

/** Shared database services: the unit of work, the change announcements, the outage log. */
@Global()
@Module({
  providers: [UnitOfWork, CustomerChanges, DatabaseAvailability],
  exports: [UnitOfWork, CustomerChanges, DatabaseAvailability],
})
export class DatabaseModule {}
