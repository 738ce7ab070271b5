import { Module } from '@nestjs/common';
import { AuditLogsController } from './audit-logs.controller';
import { AuditService } from './audit.service';
import { AuditWriter } from './audit-writer';

/** The audit log: a sink use cases write to (AuditWriter), read by GET /audit-logs. */
@Module({
  controllers: [AuditLogsController],
  providers: [AuditService, AuditWriter],
  exports: [AuditService, AuditWriter],
})
export class AuditModule {}
