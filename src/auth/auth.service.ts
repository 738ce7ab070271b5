import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InvalidCredentialsError, TooManyAttemptsError } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { LoginResponseDto } from './dto/login.dto';
import { StaffUserDto } from './dto/staff-user.dto';
import { LoginThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';
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
    const wait = this.throttle.retryAfter(normalised, ip);
    if (wait > 0) throw new TooManyAttemptsError(wait);

    const user = await this.users.findByEmail(normalised);
    const valid = user
      ? await this.hasher.verify(user.passwordHash, password)
      : await this.hasher.verifyDecoy(password);
    if (!user || !valid || !user.active) {
      this.throttle.recordFailure(normalised, ip);
      throw new InvalidCredentialsError();
    }
    this.throttle.recordSuccess(normalised);

    const payload: AccessTokenPayload = { sub: user.id };
    return {
      access_token: await this.jwt.signAsync(payload),
      token_type: 'Bearer',
      expires_in: this.config.jwtTtlSeconds,
      user: StaffUserDto.from(user),
    };
  }
}
