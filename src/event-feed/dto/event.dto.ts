import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { PageQueryDto } from '../../common/pagination';
import { CanonicalUuid } from '../../common/transforms';
import { CustomerDto } from '../../customers/dto/customer.dto';
import { InvoiceDto } from '../../billing/dto/billing.dto';
import { HoldDto } from '../../holds/dto/hold.dto';
import { EVENT_TYPES } from '../../events/entities/event.entity';
import type { EventType, OutboxEventRow } from '../../events/entities/event.entity';

/** What an event is about; which parts are present depends on its type. */
export class EventDataDto {
  @ApiPropertyOptional({
    type: CustomerDto,
    description:
      'The customer as `GET /customers/{id}` showed it when the event was committed; absent for `webhook.test`',
  })
  customer?: CustomerDto;

  @ApiPropertyOptional({
    type: HoldDto,
    description:
      'The hold concerned (`hold.*`), or the hold that caused the transition (`customer.*`), as it was then',
  })
  hold?: HoldDto;

  @ApiPropertyOptional({
    type: InvoiceDto,
    description: 'The invoice concerned (`invoice.*`), as it was then',
  })
  invoice?: InvoiceDto;

  @ApiPropertyOptional({
    description: 'Only on `invoice.overdue`: whole days past the invoice’s due date',
  })
  days_overdue?: number;

  @ApiPropertyOptional({
    description: 'Only on `invoice.overdue`: the DUNNING_WARN_DAYS step this warning is for',
  })
  step?: number;

  @ApiPropertyOptional({ description: 'Only on `webhook.test`: a test delivery, not a change' })
  test?: boolean;
}

/**
 * One event, as `GET /events` lists it and as the body of every webhook delivery (Standard
 * Webhooks: the `webhook-id` header is `id`).
 */
export class EventDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: EVENT_TYPES })
  type: EventType;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  @ApiProperty({ type: EventDataDto })
  data: EventDataDto;

  static from(this: void, row: OutboxEventRow): EventDto {
    return {
      id: row.id,
      type: row.type,
      created_at: row.createdAt.toISOString(),
      data: row.data,
    };
  }
}

export class ListEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: EVENT_TYPES })
  @IsOptional()
  @IsIn(EVENT_TYPES)
  type?: EventType;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @CanonicalUuid()
  @IsUUID()
  customer_id?: string;
}
