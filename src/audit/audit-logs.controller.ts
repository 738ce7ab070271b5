import { Controller, Get, Post, Query, StreamableFile } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { RequestOrigin, Roles } from '../access/access.decorators';
import type { Origin } from '../access/actor';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { Page, PageDtoOf, PageQueryDto } from '../common/pagination';
import type { VerifyOutcome } from './audit-chain-verifier';
import { AuditChainService } from './audit-chain.service';
import { AuditExportService } from './audit-export.service';
import { AuditService } from './audit.service';
import {
  AuditCheckpointDto,
  AuditPublicKeyDto,
  AuditVerificationDto,
  ExportAuditLogsQueryDto,
  VerifyAuditChainQueryDto,
} from './dto/audit-chain.dto';
import { AuditLogDto } from './dto/audit-log.dto';
import { ListAuditLogsQueryDto } from './dto/list-audit-logs-query.dto';

const CONTENT_TYPES = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
} as const;

@ApiTags('audit')
@Controller('audit-logs')
export class AuditLogsController {
  constructor(
    private readonly audit: AuditService,
    private readonly chain: AuditChainService,
    private readonly exports: AuditExportService,
  ) {}

  @Get()
  @Roles('user')
  @ApiOperation({
    summary: 'List audit entries, newest first',
    description:
      '`from` is inclusive and `to` exclusive. `action` is an action, or a prefix ending with a ' +
      'dot (`staff_user.`) for every action of that kind. Entries are never changed or deleted ' +
      '(older than AUDIT_RETENTION_DAYS they may be archived: README, Audit trail).',
  })
  @ApiOkResponse({ type: PageDtoOf(AuditLogDto) })
  @ApiProblemResponses(400)
  list(@Query() query: ListAuditLogsQueryDto): Promise<Page<AuditLogDto>> {
    return this.audit.list(query);
  }

  @Get('verify')
  @Roles('admin')
  @ApiOperation({
    summary: 'Verify the hash chain',
    description:
      'Recomputes every entry of `from_seq`..`to_seq` (default: all kept), checks each link, the ' +
      'head, and every signed checkpoint of the range (its signature, and that the entry it ' +
      'signed still has its hash): a rewrite of the whole chain with every hash recomputed is ' +
      'found by the checkpoints. Answers `ok: true` with the latest checkpoint of the current key ' +
      'it checked against, or `ok: false` with the first broken seq and why.',
  })
  @ApiOkResponse({ type: AuditVerificationDto })
  @ApiProblemResponses(400)
  verify(@Query() query: VerifyAuditChainQueryDto): Promise<VerifyOutcome> {
    return this.chain.verify(query);
  }

  @Post('checkpoints')
  @Roles('admin')
  @ApiOperation({
    summary: 'Sign the chain’s head now',
    description:
      'Recomputes the entries since the previous checkpoint of the current key, then signs ' +
      '`<seq>.<hash>.<signed_at>` of the head with AUDIT_SIGNING_KEY (Ed25519). Checkpoints are ' +
      'also made on AUDIT_CHECKPOINT_CRON (hourly by default). A broken chain is never signed.',
  })
  @ApiCreatedResponse({ type: AuditCheckpointDto })
  @ApiProblemResponses([
    409,
    'The chain is broken and was not signed (`audit_chain_broken`), or the audit log is empty (`conflict`)',
  ])
  createCheckpoint(): Promise<AuditCheckpointDto> {
    return this.chain.createCheckpoint();
  }

  @Get('checkpoints')
  @Roles('account_manager')
  @ApiOperation({
    summary: 'List the signed checkpoints, newest first',
    description:
      'Scheduled, on-demand and archive anchors, each with the public key that signed it: keep ' +
      'them with an export to check it outside the service (scripts/verify-audit-export.mjs).',
  })
  @ApiOkResponse({ type: PageDtoOf(AuditCheckpointDto) })
  @ApiProblemResponses(400)
  listCheckpoints(@Query() page: PageQueryDto): Promise<Page<AuditCheckpointDto>> {
    return this.chain.listCheckpoints(page);
  }

  @Get('public-key')
  @Roles('account_manager')
  @ApiOperation({
    summary: 'The public key that checks the checkpoints’ signatures',
    description: 'Ed25519, from AUDIT_SIGNING_KEY; give it to the auditor with the exports.',
  })
  @ApiOkResponse({ type: AuditPublicKeyDto })
  publicKey(): AuditPublicKeyDto {
    return this.chain.publicKey();
  }

  @Get('export')
  @Roles('account_manager')
  @ApiOperation({
    summary: 'Export audit entries, oldest first, as a streamed file',
    description:
      '`format=ndjson` (default; one JSON object a line) or `csv` (a header line, RFC 4180), with ' +
      '`seq`, `prev_hash`, `hash` and every hashed field, times with microseconds as hashed, so ' +
      'that `scripts/verify-audit-export.mjs` recomputes the chain. `from` inclusive, `to` ' +
      'exclusive. Streamed in batches: any range, in bounded memory. The export itself is ' +
      'recorded (`audit.exported`).',
  })
  @ApiProduces(CONTENT_TYPES.ndjson, CONTENT_TYPES.csv)
  @ApiOkResponse({
    description: 'The entries, oldest first',
    schema: { type: 'string', format: 'binary' },
  })
  @ApiProblemResponses(400)
  async export(
    @Query() query: ExportAuditLogsQueryDto,
    @RequestOrigin() origin: Origin,
  ): Promise<StreamableFile> {
    const started = await this.exports.start(query, origin);
    return new StreamableFile(started.stream, {
      type: CONTENT_TYPES[started.format],
      disposition: `attachment; filename="${started.filename}"`,
    });
  }
}
