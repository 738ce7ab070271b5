import { ApiProperty } from '@nestjs/swagger';

/** What one dunning run did. */
export class DunningRunDto {
  @ApiProperty({
    description: 'Customers looked at: those with an open overdue invoice or an overdue hold',
    example: 120,
  })
  evaluated: number;

  @ApiProperty({ description: '`overdue` holds placed', example: 3 })
  holds_placed: number;

  @ApiProperty({ description: 'The rules’ own holds lifted (as `system`)', example: 1 })
  holds_lifted: number;

  @ApiProperty({ description: '`invoice.overdue` events recorded', example: 12 })
  warnings_sent: number;
}
