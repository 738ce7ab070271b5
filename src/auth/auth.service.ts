import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AuditOrigin, AuditWriter } from '../audit/audit-writer';
import { TooManyAttemptsError, UnauthenticatedError } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { InvalidCredentialsError } from './auth.errors';
import { LoginResponseDto } from './dto/login.dto';
import { StaffUserDto } from './dto/staff-user.dto';
import { StaffUser } from './entities/staff-user.entity';
import { LoginAttempt, LoginThrottle } from './login-throttle';
import { HasherBusyError, PasswordHasher } from './password-hasher';
import { assertStrongPassword } from '../common/password-policy';
import { UsersService } from './users.service';
import { UnitOfWork } from '../database/unit-of-work';
import type { Origin } from '../access/actor';
import { OperationsLog } from '../observability/operations-log';

/** Where a sign-in comes from, before anybody is known: what its audit entry records. */
export type SignInOrigin = Omit<Origin, 'actor'>;

export interface AccessTokenPayload {
  sub: string;
  /**
   * The user's token version when the token was issued; the token is refused once the user's
   * version has moved on. Absent in tokens from before versions existed: those count as 0.
   */
  ver?: number;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly jwt: JwtService,
    private readonly throttle: LoginThrottle,
    private readonly unitOfWork: UnitOfWork,
    private readonly audit: AuditWriter,
    private readonly operationsLog: OperationsLog,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * Same answer, and about the same time, for an unknown email, a wrong password and a
   * deactivated user: a login never tells which emails have accounts. Every password checked is
   * recorded: `auth.login_succeeded` by the user, or `auth.login_failed` by the email tried
   * (never the password), each with the IP, in a transaction of its own. A sign-in refused by
   * the throttle before any check (429) is not.
   */
  async login(email: string, password: string, from: SignInOrigin): Promise<LoginResponseDto> {
    const normalised = email.trim().toLowerCase();
    const ip = from.ip ?? '';
    const { user, valid } = await this.throttled(normalised, ip, async () => {
      const found = await this.users.findByEmail(normalised);
      const matches = found
        ? await this.hasher.verify(found.passwordHash, password, { failWhenBusy: true })
        : await this.hasher.verifyDecoy(password, { failWhenBusy: true });
      return { user: found, valid: matches && found !== null && found.active };
    });
    if (!user || !valid) {
      await this.record(
        { action: 'auth.login_failed', before: {}, after: {} },
        { ...from, actor: { type: 'anonymous', id: null, name: normalised } },
      );
      this.operationsLog.loginFailed({
        email: normalised,
        ip: from.ip ?? undefined,
        reason: 'invalid_credentials',
      });
      throw new InvalidCredentialsError();
    }
    await this.record(
      {
        action: 'auth.login_succeeded',
        target: { type: 'staff_user', id: user.id },
        before: {},
        after: {},
      },
      {
        ...from,
        actor: { type: 'user', id: user.id, name: user.name, email: user.email, role: user.role },
      },
    );
    return this.issue(user);
  }

  private async record(
    entry: Parameters<AuditWriter['append']>[0],
    origin: AuditOrigin,
  ): Promise<void> {
    await this.unitOfWork.run(() => this.audit.append(entry, origin));
  }

  /** Ends every session of the user: one version for all its tokens keeps the check one row. */
  logout(userId: string): Promise<void> {
    return this.users.revokeTokens(userId);
  }

  /**
   * Changes the caller's own password, given the current one (a stolen token alone must not be
   * enough), revokes every token of the user and answers with a fresh one, so the caller stays
   * signed in here and nowhere else. Wrong current passwords count against the login throttle.
   */
  async changePassword(
    userId: string,
    currentPassword: string,
    newPassword: string,
    origin: Origin,
  ): Promise<LoginResponseDto> {
    const ip = origin.ip ?? '';
    const user = await this.users.findActiveById(userId);
    if (!user) throw new UnauthenticatedError('The user of this token is unknown or inactive.');
    const { valid } = await this.throttled(user.email, ip, async () => ({
      valid: await this.hasher.verify(user.passwordHash, currentPassword, { failWhenBusy: true }),
    }));
    if (!valid) throw new InvalidCredentialsError('The current password is wrong.');
    // Checked after the current password, so that a token alone cannot keep the estimator busy.
    assertStrongPassword(newPassword, user, 'new_password');
    return this.issue(await this.users.setPassword(user.id, newPassword, origin));
  }

  /**
   * Runs one password check under the throttle: counted as a failure before it starts (so a
   * burst of concurrent guesses cannot all get in while the first ones hash), refunded when
   * the password was right or could not be checked.
   */
  private async throttled<T extends { valid: boolean }>(
    email: string,
    ip: string,
    check: () => Promise<T>,
  ): Promise<T> {
    const attempt: LoginAttempt | { retryAfter: number } = this.throttle.reserve(email, ip);
    if ('retryAfter' in attempt) throw new TooManyAttemptsError(attempt.retryAfter);
    let result: T;
    try {
      result = await check();
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
    if (result.valid) attempt.succeeded();
    else attempt.failed();
    return result;
  }

  private async issue(user: StaffUser): Promise<LoginResponseDto> {
    const payload: AccessTokenPayload = { sub: user.id, ver: user.tokenVersion };
    return {
      access_token: await this.jwt.signAsync(payload),
      token_type: 'Bearer',
      expires_in: this.config.jwtTtlSeconds,
      user: StaffUserDto.from(user),
    };
  }
}
