import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { creationOrder, keysetPage, Page, PageQueryDto } from '../common/pagination';
import { CustomersService } from '../customers/customers.service';
import { CustomerNotificationDto } from './dto/customer-notification.dto';
import { CustomerNotification } from './entities/customer-notification.entity';

const NEWEST_FIRST = creationOrder<CustomerNotification>('n');

/** The emails written for a customer, for staff to see what it was told and whether it went out. */
@Injectable()
export class NotificationsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly customers: CustomersService,
  ) {}

  async listForCustomer(
    customerId: string,
    page: PageQueryDto,
  ): Promise<Page<CustomerNotificationDto>> {
    await this.customers.findOrFail(customerId);
    const qb = this.db
      .getRepository(CustomerNotification)
      .createQueryBuilder('n')
      .where('n.customer_id = :customerId', { customerId });
    return keysetPage(qb, NEWEST_FIRST, 'DESC', page, CustomerNotificationDto.from);
  }
}
