import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from 'class-validator';
import { ROLES } from '../../access/roles';
import type { Role } from '../../access/roles';
import { NormaliseEmail, Trim } from '../../common/transforms';

export class CreateUserDto {
  @ApiProperty({ example: 'grace@example.com' })
  @NormaliseEmail()
  @IsEmail()
  @MaxLength(320)
  email: string;

  @ApiProperty({ example: 'Grace Hopper' })
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiProperty({
    minLength: 12,
    maxLength: 256,
    description: 'At least 12 characters, hard to guess (zxcvbn score 3 of 4), without the email',
  })
  @IsString()
  @MinLength(12)
  @MaxLength(256)
  password: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role: Role;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ example: 'Grace Hopper' })
  @IsOptional()
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({
    minLength: 12,
    maxLength: 256,
    description: 'As for a new user; changing it revokes every token of the user',
  })
  @IsOptional()
  @IsString()
  @MinLength(12)
  @MaxLength(256)
  password?: string;

  @ApiPropertyOptional({
    description: 'false deactivates the user: its tokens stop working, for good',
  })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}
