import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import type { ApiKey } from '../entities/api-key.entity';
import { CanonicalUuid, Trim } from '../../common/transforms';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'Billing backend', maxLength: 200 })
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'Binds the key to this customer; without it the key is a platform key',
  })
  @IsOptional()
  @CanonicalUuid()
  @IsUUID()
  customer_id?: string | null;
}

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'Billing backend' })
  name: string;

  @ApiProperty({
    description: 'The first characters of the key, to recognise it',
    example: 'ca_Xk3v9QzL',
  })
  prefix: string;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'null for a platform key',
  })
  customer_id: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revoked_at: string | null;

  static from(this: void, key: ApiKey): ApiKeyDto {
    return {
      id: key.id,
      name: key.name,
      prefix: key.prefix,
      customer_id: key.customerId,
      created_at: key.createdAt.toISOString(),
      revoked_at: key.revokedAt?.toISOString() ?? null,
    };
  }
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({
    description: 'The key itself: shown this once, only its hash is stored',
    example: 'ca_Xk3v9QzLm0aB8c2Dq7eF1gH4iJ5kL6mN7oP8qR9sT0u',
  })
  key: string;
}
