import { ChangesModule } from '../changes/changes.module';
import { DatabaseModule } from '../database/database.module';
import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CustomersModule } from '../customers/customers.module';
import { EventsModule } from '../events/events.module';
import { LimitsModule } from '../limits/limits.module';
import { NotesModule } from '../notes/notes.module';
import { CustomerProjection } from './customer-projection';
import { CustomerStatusController } from './customer-status.controller';
import { HoldScheduler } from './hold-scheduler';
import { HoldsController } from './holds.controller';
import { HoldsService } from './holds.service';

/** Holds, the disable/enable flow on top of them, and the boundary scheduler. */
@Module({
  imports: [
    DatabaseModule,
    ChangesModule,
    CustomersModule,
    NotesModule,
    AuditModule,
    EventsModule,
    LimitsModule,
  ],
  controllers: [HoldsController, CustomerStatusController],
  providers: [HoldsService, CustomerProjection, HoldScheduler],
  exports: [HoldsService],
})
export class HoldsModule {}
