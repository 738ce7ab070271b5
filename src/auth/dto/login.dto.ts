import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { StaffUserDto } from './staff-user.dto';

export class LoginDto {
  @ApiProperty({ example: 'admin@example.com' })
  @IsString()
  @MinLength(1)
  @MaxLength(320)
  email: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password: string;
}

export class LoginResponseDto {
  @ApiProperty()
  access_token: string;

  @ApiProperty({ example: 'Bearer' })
  token_type: 'Bearer';

  @ApiProperty({ description: 'Seconds until the token expires', example: 3600 })
  expires_in: number;

  @ApiProperty({ type: StaffUserDto })
  user: StaffUserDto;
}

export class ChangePasswordDto {
  @ApiProperty({ description: 'The password the caller signs in with now' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  current_password: string;

  @ApiProperty({
    minLength: 12,
    maxLength: 256,
    description:
      'At least 12 characters, hard to guess (zxcvbn score 3 of 4), without the email address',
  })
  @IsString()
  @MinLength(12)
  @MaxLength(256)
  new_password: string;
}
