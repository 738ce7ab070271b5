import { Global, Module } from '@nestjs/common';
import { DatabaseAvailability } from './database-availability';
import { UnitOfWork } from './unit-of-work';

/** Shared database services: the unit of work and the outage log. */
@Global()
@Module({
  providers: [UnitOfWork, DatabaseAvailability],
  exports: [UnitOfWork, DatabaseAvailability],
})
export class DatabaseModule {}
