import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: 'email' })
  field: string;

  @ApiProperty({ example: 'email must be an email' })
  message: string;
}

/** RFC 9457 problem details, as every error is answered. */
export class ProblemDetailsDto {
  @ApiProperty({ example: 'https://customer-access.dev/problems/validation-failed' })
  type: string;

  @ApiProperty({ example: 'Validation failed' })
  title: string;

  @ApiProperty({ example: 400 })
  status: number;

  @ApiProperty({ example: 'The request is not valid.' })
  detail: string;

  @ApiProperty({
    example: 'validation_failed',
    description:
      'Stable machine-readable code: validation_failed, unauthenticated, invalid_credentials, forbidden, customer_disabled, not_found, customer_exists, conflict, payload_too_large, too_many_attempts, internal_error',
  })
  code: string;

  @ApiPropertyOptional({ type: [FieldErrorDto] })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({ example: '/api/v1/customers' })
  instance?: string;
}
