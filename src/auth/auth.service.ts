import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InvalidCredentialsError, TooManyAttemptsError } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { LoginResponseDto } from './dto/login.dto';
import { StaffUserDto } from './dto/staff-user.dto';
import { StaffUser } from './entities/staff-user.entity';
import { LoginThrottle } from './login-throttle';
import { HasherBusyError, PasswordHasher } from './password-hasher';
import { UsersService } from './users.service';

export interface AccessTokenPayload {
  sub: string;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly jwt: JwtService,
    private readonly throttle: LoginThrottle,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * Same answer, and about the same time, for an unknown email, a wrong password and a
   * deactivated user: a login never tells which emails have accounts.
   */
  async login(email: string, password: string, ip: string): Promise<LoginResponseDto> {
    const normalised = email.trim().toLowerCase();
    const attempt = this.throttle.reserve(normalised, ip);
    if ('retryAfter' in attempt) throw new TooManyAttemptsError(attempt.retryAfter);
    let user: StaffUser | null;
    let valid: boolean;
    try {
      user = await this.users.findByEmail(normalised);
      valid = user
        ? await this.hasher.verify(user.passwordHash, password, { failWhenBusy: true })
        : await this.hasher.verifyDecoy(password, { failWhenBusy: true });
    } catch (error) {
      attempt.abandoned();
      if (error instanceof HasherBusyError) {
        throw new TooManyAttemptsError(
          1,
          'Too many sign-ins are being checked. Try again in a second.',
        );
      }
      throw error;
    }
    if (!user || !valid || !user.active) {
      attempt.failed();
      throw new InvalidCredentialsError();
    }
    attempt.succeeded();

    const payload: AccessTokenPayload = { sub: user.id };
    return {
      access_token: await this.jwt.signAsync(payload),
      token_type: 'Bearer',
      expires_in: this.config.jwtTtlSeconds,
      user: StaffUserDto.from(user),
    };
  }
}
