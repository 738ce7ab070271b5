import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';
import type { Feature } from '../entities/feature.entity';
import { Trim } from '../../common/transforms';

/** Codes are what clients test for in the limits answer: short, lower case, stable. */
export const CODE_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;
export const CODE_MESSAGE =
  'must be 1 to 64 characters: a lower-case letter, then lower-case letters, digits, _ . or -';

export class CreateFeatureDto {
  @ApiProperty({ example: 'api_calls', pattern: CODE_PATTERN.source })
  @IsString()
  @Matches(CODE_PATTERN, { message: `code ${CODE_MESSAGE}` })
  code: string;

  @ApiProperty({ example: 'API calls per month', maxLength: 200 })
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;
}

export class FeatureDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'api_calls' })
  code: string;

  @ApiProperty({ example: 'API calls per month' })
  name: string;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  static from(this: void, feature: Feature): FeatureDto {
    return {
      id: feature.id,
      code: feature.code,
      name: feature.name,
      created_at: feature.createdAt.toISOString(),
    };
  }
}
