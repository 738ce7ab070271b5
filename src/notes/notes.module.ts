import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { CustomersModule } from '../customers/customers.module';
import { NotesController } from './notes.controller';
import { NotesService } from './notes.service';

/** Internal notes on customers, by staff and from disable/enable reasons. */
@Module({
  imports: [DatabaseModule, CustomersModule],
  controllers: [NotesController],
  providers: [NotesService],
  exports: [NotesService],
})
export class NotesModule {}
