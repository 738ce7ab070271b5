import { Module } from '@nestjs/common';
import { CustomerChangeFeed } from './customer-change-feed';

/** The feed of committed customer changes that every cache of customer access listens to. */
@Module({
  providers: [CustomerChangeFeed],
  exports: [CustomerChangeFeed],
})
export class ChangesModule {}
