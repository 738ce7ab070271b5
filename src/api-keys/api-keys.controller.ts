import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { RequestOrigin, Roles } from '../access/access.decorators';
import type { Origin } from '../access/actor';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { Page, PageDtoOf, PageQueryDto } from '../common/pagination';
import { UuidParam } from '../common/validation';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto';

@ApiTags('api-keys')
@Controller('api-keys')
@Roles('developer')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @ApiOperation({
    summary: 'Create an API key',
    description:
      'A platform key (no customer_id) may act on any customer; a customer key only on its own ' +
      'customer. The key is in this answer only: store it now, it cannot be shown again.',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiProblemResponses(400, [404, 'The customer does not exist (`not_found`)'])
  create(
    @Body() body: CreateApiKeyDto,
    @RequestOrigin() origin: Origin,
  ): Promise<CreatedApiKeyDto> {
    return this.apiKeys.create(body, origin);
  }

  @Get()
  @ApiOperation({ summary: 'List API keys, newest first (revoked ones too, never the key)' })
  @ApiOkResponse({ type: PageDtoOf(ApiKeyDto) })
  @ApiProblemResponses(400)
  list(@Query() page: PageQueryDto): Promise<Page<ApiKeyDto>> {
    return this.apiKeys.list(page);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Revoke an API key',
    description: 'Refused from the next request on, on every instance. The key stays listed.',
  })
  @ApiNoContentResponse({ description: 'Revoked (or already revoked)' })
  @ApiProblemResponses(400, 404)
  revoke(@UuidParam() id: string, @RequestOrigin() origin: Origin): Promise<void> {
    return this.apiKeys.revoke(id, origin);
  }
}
