import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditService } from '../audit/audit.service';
import { AuditLogDto } from '../audit/dto/audit-log.dto';
import { Roles } from '../access/access.decorators';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { PageDtoOf, PageQueryDto } from '../common/pagination';
import { UuidParam } from '../common/validation';
import { NotFoundError } from '../common/errors';

@ApiTags('customers')
@Controller('customers/:id/audit-logs')
export class CustomerAuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Roles('user')
  @ApiOperation({ summary: 'A customer’s audit entries, newest first' })
  @ApiOkResponse({ type: PageDtoOf(AuditLogDto) })
  @ApiProblemResponses(400, 404)
  // The page comes as JSON text (AuditService.customerPage): sent as it is, typed as JSON.
  @Header('content-type', 'application/json; charset=utf-8')
  async list(@UuidParam() id: string, @Query() page: PageQueryDto): Promise<string> {
    const found = await this.audit.customerPage(id, page);
    if (!found) throw new NotFoundError('Customer', id);
    return found;
  }
}
