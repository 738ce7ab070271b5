import { Controller, Get, HttpCode } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../access/access.decorators';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { DatabaseAvailability } from '../database/database-availability';
import { Readiness } from '../observability/readiness';

const OK = { status: 'ok' } as const;

@ApiTags('health')
@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly availability: DatabaseAvailability,
    private readonly readiness: Readiness,
  ) {}

  @Get()
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ schema: { example: OK } })
  live(): typeof OK {
    return OK;
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the database answers' })
  @ApiOkResponse({ schema: { example: { status: 'ok', database: 'up' } } })
  @ApiProblemResponses([
    503,
    'Not ready: the database does not answer, or the service is shutting down (`service_unavailable`)',
  ])
  async ready(): Promise<{ status: 'ok'; database: 'up' }> {
    // First during a graceful shutdown: the load balancer stops sending while requests still work.
    this.readiness.assertReady();
    // Its own short deadline: an orchestrator must hear "not ready" while the database is frozen.
    await this.availability.ping();
    return { status: 'ok', database: 'up' };
  }
}
