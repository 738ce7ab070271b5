import { Module } from '@nestjs/common';
import { DatabaseAvailability } from './database-availability';
import { UnitOfWork } from './unit-of-work';

/**
 * Shared database services: the unit of work and the outage log. Not global: a module that writes
 * through the unit of work imports it, so its dependency shows.
 */
@Module({
  providers: [UnitOfWork, DatabaseAvailability],
  exports: [UnitOfWork, DatabaseAvailability],
})
export class DatabaseModule {}
