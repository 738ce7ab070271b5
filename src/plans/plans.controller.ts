import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequestOrigin, Roles } from '../access/access.decorators';
import type { Origin } from '../access/actor';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { Page, PageDtoOf, PageQueryDto } from '../common/pagination';
import { CreateFeatureDto, FeatureDto } from './dto/feature.dto';
import { CreatePlanDto, PlanDto } from './dto/plan.dto';
import { PlansService } from './plans.service';

@ApiTags('plans')
@Controller()
export class PlansController {
  constructor(private readonly plans: PlansService) {}

  @Post('features')
  @Roles('account_manager')
  @ApiOperation({ summary: 'Create a feature' })
  @ApiCreatedResponse({ type: FeatureDto })
  @ApiProblemResponses(400, [409, 'A feature with this code exists (`feature_exists`)'])
  createFeature(
    @Body() body: CreateFeatureDto,
    @RequestOrigin() origin: Origin,
  ): Promise<FeatureDto> {
    return this.plans.createFeature(body, origin);
  }

  @Get('features')
  @Roles('user')
  @ApiOperation({ summary: 'List features by code' })
  @ApiOkResponse({ type: PageDtoOf(FeatureDto) })
  @ApiProblemResponses(400)
  listFeatures(@Query() page: PageQueryDto): Promise<Page<FeatureDto>> {
    return this.plans.listFeatures(page);
  }

  @Post('plans')
  @Roles('account_manager')
  @ApiOperation({
    summary: 'Create a plan',
    description:
      'A plan does not change once created: a new price or grant is a new plan. Every feature ' +
      'must exist, and every limit must be for one of the plan’s features.',
  })
  @ApiCreatedResponse({ type: PlanDto })
  @ApiProblemResponses(400, [409, 'A plan with this code exists (`plan_exists`)'])
  createPlan(@Body() body: CreatePlanDto, @RequestOrigin() origin: Origin): Promise<PlanDto> {
    return this.plans.createPlan(body, origin);
  }

  @Get('plans')
  @Roles('user')
  @ApiOperation({ summary: 'List plans by code' })
  @ApiOkResponse({ type: PageDtoOf(PlanDto) })
  @ApiProblemResponses(400)
  listPlans(@Query() page: PageQueryDto): Promise<Page<PlanDto>> {
    return this.plans.listPlans(page);
  }
}
