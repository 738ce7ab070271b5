import { Global, Module } from '@nestjs/common';
import { CustomerChanges } from '../changes/customer-changes';
import { UnitOfWork } from './unit-of-work';

/** Shared database services: the unit of work and the change announcements. */
@Global()
@Module({
  providers: [UnitOfWork, CustomerChanges],
  exports: [UnitOfWork, CustomerChanges],
})
export class DatabaseModule {}
