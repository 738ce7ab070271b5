import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/access.decorators';
import { ApiProblemResponses } from '../common/api-problem-responses';
import type { Page } from '../common/pagination';
import { AuditService } from './audit.service';
import { AuditLogDto, AuditLogPageDto } from './dto/audit-log.dto';
import { ListAuditLogsQueryDto } from './dto/list-audit-logs-query.dto';

@ApiTags('audit')
@Controller('audit-logs')
export class AuditLogsController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Roles('user')
  @ApiOperation({
    summary: 'List audit entries, newest first',
    description: '`from` is inclusive and `to` exclusive. Entries are never changed or deleted.',
  })
  @ApiOkResponse({ type: AuditLogPageDto })
  @ApiProblemResponses(400)
  list(@Query() query: ListAuditLogsQueryDto): Promise<Page<AuditLogDto>> {
    return this.audit.list(query);
  }
}
