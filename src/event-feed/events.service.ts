import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { NotFoundError } from '../common/errors';
import { KeysetColumn, keysetPage, Page } from '../common/pagination';
import { EventDto, ListEventsQueryDto } from './dto/event.dto';
import { OutboxEventRow } from '../events/entities/event.entity';

const NEWEST_FIRST: KeysetColumn<OutboxEventRow>[] = [
  { expression: 'e.seq', cast: 'bigint', value: (e) => Number(e.seq) },
];

/** The event feed, for consumers that pull rather than receive. */
@Injectable()
export class EventsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  list(query: ListEventsQueryDto): Promise<Page<EventDto>> {
    const qb = this.db.getRepository(OutboxEventRow).createQueryBuilder('e');
    if (query.type) qb.andWhere('e.type = :type', { type: query.type });
    if (query.customer_id)
      qb.andWhere('e.customer_id = :customerId', { customerId: query.customer_id });
    return keysetPage(qb, NEWEST_FIRST, 'DESC', query, EventDto.from);
  }

  async findOrFail(id: string): Promise<OutboxEventRow> {
    const event = await this.db.getRepository(OutboxEventRow).findOneBy({ id });
    if (!event) throw new NotFoundError('Event', id);
    return event;
  }
}
