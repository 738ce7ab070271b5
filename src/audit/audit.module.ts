import { Module } from '@nestjs/common';
import { CustomersModule } from '../customers/customers.module';
import { NotesModule } from '../notes/notes.module';
import { AuditInterceptor } from './audit.interceptor';
import { AuditLogsController } from './audit-logs.controller';
import { AuditService } from './audit.service';
import { AuditTrail } from './audit-trail';

/** The audit log: written by `@Audited()` routes, read by GET /audit-logs. */
@Module({
  imports: [CustomersModule, NotesModule],
  controllers: [AuditLogsController],
  providers: [AuditService, AuditTrail, AuditInterceptor],
  exports: [AuditService, AuditTrail, AuditInterceptor],
})
export class AuditModule {}
