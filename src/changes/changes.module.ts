import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { CustomerChangeFeed } from './customer-change-feed';
import { CustomerChanges } from './customer-changes';

/**
 * Customer changes for the caches of customer access: `CustomerChanges` announces them inside a
 * use case's transaction, `CustomerChangeFeed` hears the committed ones.
 */
@Module({
  imports: [DatabaseModule],
  providers: [CustomerChanges, CustomerChangeFeed],
  exports: [CustomerChanges, CustomerChangeFeed],
})
export class ChangesModule {}
