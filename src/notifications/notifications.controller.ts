import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../access/access.decorators';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { Page, PageDtoOf, PageQueryDto } from '../common/pagination';
import { UuidParam } from '../common/validation';
import { CustomerNotificationDto } from './dto/customer-notification.dto';
import { NotificationsService } from './notifications.service';

@ApiTags('customers')
@Controller('customers/:id/notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  @Roles('user')
  @ApiOperation({
    summary: 'The emails sent (or to be sent) to a customer, newest first',
    description:
      'One per event the customer is told about: a hold scheduled (before it starts), disabled, ' +
      'enabled. Written with the event when `SMTP_URL` and `EMAIL_FROM` are set and the hold did not say ' +
      '`notify_customer: false`; sent by the outbox, retried on `EMAIL_RETRY_SCHEDULE`.',
  })
  @ApiOkResponse({ type: PageDtoOf(CustomerNotificationDto) })
  @ApiProblemResponses(400, 404)
  list(
    @UuidParam() id: string,
    @Query() page: PageQueryDto,
  ): Promise<Page<CustomerNotificationDto>> {
    return this.notifications.listForCustomer(id, page);
  }
}
