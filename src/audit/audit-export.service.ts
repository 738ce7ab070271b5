import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { ValidationFailedError } from '../common/errors';
import { UnitOfWork } from '../database/unit-of-work';
import type { Query } from './audit-chain-rows';
import { exportStream } from './audit-export';
import { AuditOrigin, AuditWriter } from './audit-writer';
import type { ExportAuditLogsQueryDto, ExportFormat } from './dto/audit-chain.dto';

export interface AuditExport {
  stream: Readable;
  format: ExportFormat;
  filename: string;
}

/**
 * GET /audit-logs/export. Reading the log is itself recorded (PCI DSS 10.2.1.3 asks for every
 * access to audit logs): an `audit.exported` entry by the caller, committed before the first
 * line, so the export of a range that reaches now contains its own record.
 */
@Injectable()
export class AuditExportService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly audit: AuditWriter,
  ) {}

  private readonly query: Query = (sql, parameters) => this.txHost.tx.query(sql, parameters);

  async start(input: ExportAuditLogsQueryDto, origin: AuditOrigin): Promise<AuditExport> {
    const format = input.format ?? 'ndjson';
    if (input.from && input.to && Date.parse(input.from) > Date.parse(input.to)) {
      throw new ValidationFailedError([{ field: 'to', message: 'must not be before from' }]);
    }
    await this.unitOfWork.run(() =>
      this.audit.append(
        {
          action: 'audit.exported',
          before: {},
          after: { from: input.from ?? null, to: input.to ?? null, format },
        },
        origin,
      ),
    );
    const day = (value: string | undefined, fallback: string) =>
      value ? new Date(value).toISOString().slice(0, 10) : fallback;
    return {
      stream: exportStream(this.query, { from: input.from, to: input.to }, format),
      format,
      filename: `audit-log_${day(input.from, 'start')}_${day(input.to, 'now')}.${format}`,
    };
  }
}
