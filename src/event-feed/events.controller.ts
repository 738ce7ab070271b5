import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../access/access.decorators';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { Page, PageDtoOf } from '../common/pagination';
import { EventDto, ListEventsQueryDto } from './dto/event.dto';
import { EventsService } from './events.service';

@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @Roles('developer', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'The event feed, newest first',
    description:
      'Every event the service published (the same bodies the webhooks deliver), for consumers that ' +
      'pull rather than receive. Each was written in the transaction of its change: one per real ' +
      'transition, none for a change that was rolled back or changed nothing.',
  })
  @ApiOkResponse({ type: PageDtoOf(EventDto) })
  @ApiProblemResponses(400)
  list(@Query() query: ListEventsQueryDto): Promise<Page<EventDto>> {
    return this.events.list(query);
  }
}
