import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { AuditChainService } from './audit-chain.service';
import { AuditCheckpointScheduler } from './audit-checkpoint-scheduler';
import { AuditExportService } from './audit-export.service';
import { AuditLogsController } from './audit-logs.controller';
import { AuditService } from './audit.service';
import { AuditSigner } from './audit-signer';
import { AuditWriter } from './audit-writer';

/**
 * The audit log: a sink use cases write to (AuditWriter), chained by the database, read by
 * GET /audit-logs, verified, signed (checkpoints) and exported.
 */
@Module({
  imports: [DatabaseModule],
  controllers: [AuditLogsController],
  providers: [
    AuditService,
    AuditWriter,
    AuditSigner,
    AuditChainService,
    AuditCheckpointScheduler,
    AuditExportService,
  ],
  exports: [AuditService, AuditWriter, AuditChainService],
})
export class AuditModule {}
