import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_CODES, ErrorCode } from './error-codes';

export class FieldErrorDto {
  @ApiProperty({ example: 'email' })
  field: string;

  @ApiProperty({ example: 'email must be an email' })
  message: string;
}

/**
 * RFC 9457 problem details, as every error is answered. Its class name is the schema name that
 * common/api-problem-responses.ts refers to (PROBLEM_DETAILS_SCHEMA).
 */
export class ProblemDetailsDto {
  @ApiProperty({ example: 'https://customer-access.dev/problems/validation-failed' })
  type: string;

  @ApiProperty({ example: 'Validation failed' })
  title: string;

  @ApiProperty({ type: 'integer', example: 400 })
  status: number;

  @ApiProperty({ example: 'The request is not valid.' })
  detail: string;

  @ApiProperty({
    enum: ERROR_CODES,
    enumName: 'ErrorCode',
    example: 'validation_failed',
    description:
      'Stable machine-readable code. Each response of an operation lists the codes it can carry.',
  })
  code: ErrorCode;

  @ApiPropertyOptional({ type: [FieldErrorDto] })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({ example: '/api/v1/customers' })
  instance?: string;
}
