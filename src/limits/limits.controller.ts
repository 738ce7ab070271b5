import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AllowDisabledCustomerKey, Roles } from '../auth/access.decorators';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { UuidParam } from '../common/validation';
import { LimitsDto } from './dto/limits.dto';
import { LimitsService } from './limits.service';

@ApiTags('limits')
@Controller('customers')
export class LimitsController {
  constructor(private readonly limits: LimitsService) {}

  @Get(':id/limits')
  @Roles('user', { apiKeys: 'platform_and_own_customer' })
  @AllowDisabledCustomerKey()
  @ApiOperation({
    summary: 'What the customer may do now (the hot path)',
    description:
      'Computed from the active subscriptions: features united, limits and user_count summed. ' +
      'A disabled customer gets 200 with status "disabled", disabled: true and no grants; its own ' +
      'key may still call this route (and only this one).',
  })
  @ApiOkResponse({ type: LimitsDto })
  @ApiProblemResponses(400, 404)
  get(@UuidParam() id: string): LimitsDto | Promise<LimitsDto> {
    return this.limits.limitsOf(id);
  }
}
